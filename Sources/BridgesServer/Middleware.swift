import BridgesAPI
import BridgesCore
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

extension APIFailure {
    func response(headers extra: HTTPFields) -> Response {
        var response = response()
        for field in extra { response.headers[field.name] = field.value }
        return response
    }
}

/// Refuses request bodies over `limit` bytes with 413, before anything reads them whole.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw BridgesError(.payloadTooLarge, code: "payload_too_large", message: "The request body is over the limit of \(limit) bytes.")
        }
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw BridgesError(.payloadTooLarge, code: "payload_too_large", message: "The request body is over the limit of \(limit) bytes.")
        }
        return try await next(request, context)
    }
}

/// A per-token request budget: `requestsPerMinute` on average, in bursts of up to a tenth of it
/// (at least 10). Over budget: 429 with `retry-after`.
struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = AuthMiddleware<Context>.bearerToken(request) else { return try await next(request, context) }
        if let wait = await limiter.take(for: AccessTokens.hash(token)) {
            var response = APIFailure(
                status: .tooManyRequests, code: "rate_limited",
                message: "Too many requests with this token; retry in \(wait) second\(wait == 1 ? "" : "s").").response()
            response.headers[.retryAfter] = String(wait)
            return response
        }
        return try await next(request, context)
    }
}

/// Token buckets, one per access token (keyed by its hash, so no secret is held here).
actor RateLimiter {
    private let perSecond: Double
    private let burst: Double
    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private var lastSweep = ContinuousClock.now

    init(requestsPerMinute: Int) {
        perSecond = Double(requestsPerMinute) / 60
        burst = max(10, Double(requestsPerMinute) / 10)
    }

    /// Takes one request from the key's budget; returns the seconds to wait when there is none.
    func take(for key: String) -> Int? {
        let now = ContinuousClock.now
        sweep(now)
        var bucket = buckets[key] ?? (burst, now)
        let elapsed = now - bucket.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + seconds * perSecond)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        return nil
    }

    /// Full buckets carry no information; dropping them keeps memory bounded by active tokens.
    private func sweep(_ now: ContinuousClock.Instant) {
        guard now - lastSweep > .seconds(60) else { return }
        lastSweep = now
        buckets = buckets.filter { _, bucket in
            let idle = Double((now - bucket.at).components.seconds)
            return bucket.tokens + idle * perSecond < burst
        }
    }
}
