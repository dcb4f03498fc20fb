import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Requires a valid bearer token for every operation of the API except those the OpenAPI
/// document declares public (`security: []`). Decided per operation, not by path.
struct OperationAuthMiddleware: ServerMiddleware {
    let tokens: AccessTokens
    let publicOperationIDs: Set<String>

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if !publicOperationIDs.contains(operationID) {
            try await tokens.authenticate(request.headerFields)
        }
        return try await next(request, body, metadata)
    }
}

/// The same check for routes outside the API (the demo's control route).
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await tokens.authenticate(request.headers)
        return try await next(request, context)
    }
}

extension AccessTokens {
    /// Throws `unauthorized` unless the headers carry a valid bearer token.
    func authenticate(_ headers: HTTPFields) async throws {
        guard let token = Self.bearerToken(in: headers), await isValid(token) else { throw BridgesError.unauthorized }
    }

    static func bearerToken(in headers: HTTPFields) -> String? {
        guard let header = headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
