import BridgesCore
import HTTPTypes
import OpenAPIRuntime

/// A per-token request budget: `requestsPerMinute` on average, in bursts of up to a tenth of it
/// (at least 10). Over budget: 429 with `retry-after`. Runs after authentication, so only valid
/// tokens get a bucket.
struct RateLimitMiddleware: ServerMiddleware {
    let limiter: RateLimiter

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if let token = AccessTokens.bearerToken(in: request.headerFields),
            let wait = await limiter.take(for: AccessTokens.hash(token))
        {
            throw BridgesError.rateLimited(retryAfterSeconds: wait)
        }
        return try await next(request, body, metadata)
    }
}

/// Token buckets, one per access token (keyed by its hash, so no secret is held here).
actor RateLimiter {
    private let perSecond: Double
    private let burst: Double
    private let clock: AnyClock
    private var buckets: [String: (tokens: Double, at: AnyClock.Instant)] = [:]
    private var lastSweep: AnyClock.Instant

    init(requestsPerMinute: Int, clock: AnyClock) {
        perSecond = Double(requestsPerMinute) / 60
        burst = max(10, Double(requestsPerMinute) / 10)
        self.clock = clock
        lastSweep = clock.now
    }

    /// Takes one request from the key's budget; returns the seconds to wait when there is none.
    func take(for key: String) -> Int? {
        let now = clock.now
        sweep(now)
        var bucket = buckets[key] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + Self.seconds(bucket.at.duration(to: now)) * perSecond)
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
    private func sweep(_ now: AnyClock.Instant) {
        guard lastSweep.duration(to: now) > .seconds(60) else { return }
        lastSweep = now
        buckets = buckets.filter { _, bucket in
            bucket.tokens + Self.seconds(bucket.at.duration(to: now)) * perSecond < burst
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
