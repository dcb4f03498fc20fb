import BridgesAPI
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Requires a valid bearer token on every route but the public ones.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isPublic(request) else {
            guard let token = Self.bearerToken(request), await tokens.isValid(token) else {
                return APIFailure(
                    status: .unauthorized, code: "unauthorized", message: "Unauthorized: invalid or missing token."
                ).response(headers: [.wwwAuthenticate: "Bearer"])
            }
            return try await next(request, context)
        }
        return try await next(request, context)
    }

    /// `/v1/info` and the demo's own pages, which a phone or browser opens without a token.
    /// The demo's control routes under `/demo/accounts/` change state and stay protected.
    static func isPublic(_ request: Request) -> Bool {
        let path = request.uri.path
        if path == "/v1/info" { return true }
        return path.hasPrefix("/demo/") && !path.hasPrefix("/demo/accounts/")
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}

/// Marks every response with the server's version, as Beeper Desktop does.
struct VersionHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.beeperVersion] = BridgesVersion.current
        return response
    }
}

/// A request that declares no body (no `Content-Length`, or `0`, and no `Transfer-Encoding`)
/// has none: curl users create a session with no body at all, and the official SDKs send
/// `Content-Type: application/json` on bodiless GET and DELETE requests.
struct EmptyBodyMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let declaresBody =
            request.headerFields[.contentLength].map { $0 != "0" } ?? (request.headerFields[.transferEncoding] != nil)
        return try await next(request, declaresBody ? body : nil, metadata)
    }
}

extension HTTPField.Name {
    static let beeperVersion = HTTPField.Name("X-Beeper-Desktop-Version")!
}

extension APIFailure {
    func response(headers extra: HTTPFields) -> Response {
        var response = response()
        for field in extra { response.headers[field.name] = field.value }
        return response
    }
}
