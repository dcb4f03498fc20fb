import BridgesAPI
import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Marks every response with the server's version, as Beeper Desktop does.
struct VersionHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let name = HTTPField.Name.beeperVersion { response.headers[name] = BridgesVersion.current }
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
    static let beeperVersion = HTTPField.Name("X-Beeper-Desktop-Version")
}

/// Refuses request bodies over `limit` bytes with 413, before anything reads them whole.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw BridgesError.payloadTooLarge(limit: limit)
        }
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw BridgesError.payloadTooLarge(limit: limit)
        }
        return try await next(request, context)
    }
}
