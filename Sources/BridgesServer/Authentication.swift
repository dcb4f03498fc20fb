import BridgesCore
import BridgesStore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Who a request acts for, resolved once at the edge from its token and read by the handlers.
enum RequestCaller {
    @TaskLocal static var current: TokenGrant?
    /// The client's IP address, where the connection shows it.
    @TaskLocal static var address: String?

    /// The caller of an authenticated operation.
    static func required() throws -> TokenGrant {
        guard let current else { throw BridgesError.unauthorized }
        return current
    }

    /// The user an authenticated operation acts for.
    static func user() throws -> UserID { try required().userID }
}

/// Requires a valid bearer token for every operation of the API except those the OpenAPI
/// document declares public (`security: []`), and runs the operation as the token's user.
/// Decided per operation, not by path.
struct OperationAuthMiddleware: ServerMiddleware {
    let tokens: AccessTokens
    let publicOperationIDs: Set<String>

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if publicOperationIDs.contains(operationID) { return try await next(request, body, metadata) }
        let grant = try await tokens.authenticate(request.headerFields)
        return try await RequestCaller.$current.withValue(grant) { try await next(request, body, metadata) }
    }
}

/// The same check for routes outside the API (the demo's control route).
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let grant = try await tokens.authenticate(request.headers)
        return try await RequestCaller.$current.withValue(grant) { try await next(request, context) }
    }
}

extension AccessTokens {
    /// What the headers' bearer token grants; throws `unauthorized` unless it is valid.
    func authenticate(_ headers: HTTPFields) async throws -> TokenGrant {
        guard let token = Self.bearerToken(in: headers), let grant = await grant(for: token) else {
            throw BridgesError.unauthorized
        }
        return grant
    }

    static func bearerToken(in headers: HTTPFields) -> String? {
        guard let header = headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
