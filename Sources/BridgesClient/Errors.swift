import BridgesAPI
import Foundation
import HTTPTransport
import HTTPTypes
import OpenAPIRuntime

/// The error body every failed request carries: `{message, code, details?}`.
public typealias ErrorBody = Components.Schemas.ErrorResponse

/// Everything a ``BridgesClient`` call can fail with.
public enum BridgesClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with an error status.
    case api(APIStatusError)
    /// The server could not be reached, or the connection broke before the answer was complete.
    case connection(TransportFailure)
    /// The server did not answer in time.
    case timeout
    /// No access token was given, and `BEEPER_ACCESS_TOKEN` is not set.
    case missingAccessToken
    /// The base URL is not an http(s) URL.
    case invalidBaseURL(String)
    /// The server answered something this client cannot read.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .api(let error): error.description
        case .connection(let failure): "Cannot reach the server: \(failure)"
        case .timeout: "The server did not answer in time."
        case .missingAccessToken: "No access token: pass one, or set BEEPER_ACCESS_TOKEN."
        case .invalidBaseURL(let url): "'\(url)' is not an http(s) URL."
        case .invalidResponse(let reason): "The server's answer could not be read: \(reason)"
        }
    }

    /// The HTTP error, when the server answered with one.
    public var apiError: APIStatusError? {
        if case .api(let error) = self { return error }
        return nil
    }

    init(_ error: any Error) {
        var current: any Error = error
        while let client = current as? ClientError { current = client.underlyingError }
        switch current {
        case let known as BridgesClientError:
            self = known
        case let status as APIStatusError:
            self = .api(status)
        case let failure as TransportFailure:
            switch failure {
            case .timedOut, .connectTimedOut: self = .timeout
            case .refused, .closed, .tls, .other: self = .connection(failure)
            }
        default:
            // The transport classifies every network failure; what is left is an answer the
            // generated client could not read (a DecodingError, a content type it does not know).
            self = .invalidResponse("\(current)")
        }
    }
}

/// An error answer from the server, classified by status as the official SDKs do.
public struct APIStatusError: Error, Sendable, CustomStringConvertible {
    /// The class of an error status, named like the official SDKs' exceptions.
    public enum Kind: Sendable, Hashable {
        case badRequest, authentication, permissionDenied, notFound, conflict, unprocessableEntity, rateLimited
        case internalServer
        /// Any other 4xx.
        case other
    }

    public var status: Int
    /// The decoded `{message, code, details}` body, when the server sent one.
    public var body: ErrorBody?

    public var kind: Kind {
        switch status {
        case 400: .badRequest
        case 401: .authentication
        case 403: .permissionDenied
        case 404: .notFound
        case 409: .conflict
        case 422: .unprocessableEntity
        case 429: .rateLimited
        case 500...: .internalServer
        default: .other
        }
    }

    /// The server's message, or the status when it sent none.
    public var message: String { body?.message ?? "HTTP \(status)" }
    /// The server's machine-readable code, if any.
    public var code: String? { body?.code }

    public var description: String { "Error code: \(status) - \(message)" }
}

/// Turns every error status into an ``APIStatusError`` with its decoded body, so each operation
/// answers either its success value or one error type.
struct ErrorBodyMiddleware: ClientMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var decoded: ErrorBody?
        if let responseBody, let data = try? await Data(collecting: responseBody, upTo: 1 << 20) {
            decoded = try? JSONDecoder().decode(ErrorBody.self, from: data)
        }
        throw APIStatusError(status: response.status.code, body: decoded)
    }
}

/// Sends `Authorization: Bearer <token>` with every request; for code that uses the generated
/// `Client` directly.
public struct BearerTokenMiddleware: ClientMiddleware {
    let token: String

    public init(token: String) {
        self.token = token
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// Retries as the official SDKs do: after connection errors, timeouts and 408, 409, 429 and 5xx
/// answers, at most `maxRetries` times, waiting `min(0.5 s × 2ⁿ, 8 s)` times a jitter of 0.75–1,
/// unless the server asks for a wait of 0–60 s with `retry-after-ms` or `retry-after`.
struct RetryMiddleware: ClientMiddleware {
    let maxRetries: Int

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        // A body can be read once; keep its bytes to send it again.
        let bytes: Data? = if let body { try await Data(collecting: body, upTo: 16 << 20) } else { nil }
        var attempt = 0
        while true {
            let wait: Duration?
            do {
                let (response, responseBody) = try await next(request, bytes.map { HTTPBody($0) }, baseURL)
                guard attempt < maxRetries, Self.shouldRetry(response) else { return (response, responseBody) }
                wait = Self.requestedWait(response)
            } catch {
                guard attempt < maxRetries, !(error is CancellationError), !(error is APIStatusError) else { throw error }
                wait = nil
            }
            try await Task.sleep(for: wait ?? Self.backoff(attempt: attempt))
            attempt += 1
        }
    }

    private static let shouldRetryHeader = HTTPField.Name("x-should-retry")
    private static let retryAfterMillisecondsHeader = HTTPField.Name("retry-after-ms")
    private static let retryAfterHeader = HTTPField.Name("retry-after")

    static func shouldRetry(_ response: HTTPResponse) -> Bool {
        if let name = shouldRetryHeader, let header = response.headerFields[name] { return header == "true" }
        let status = response.status.code
        return status == 408 || status == 409 || status == 429 || status >= 500
    }

    static func requestedWait(_ response: HTTPResponse) -> Duration? {
        if let name = retryAfterMillisecondsHeader, let text = response.headerFields[name], let milliseconds = Double(text),
            (0...60_000).contains(milliseconds)
        {
            return .milliseconds(Int64(milliseconds))
        }
        if let name = retryAfterHeader, let text = response.headerFields[name] {
            if let seconds = Double(text), (0...60).contains(seconds) { return .milliseconds(Int64(seconds * 1000)) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: text) {
                let seconds = date.timeIntervalSinceNow
                if (0...60).contains(seconds) { return .milliseconds(Int64(seconds * 1000)) }
            }
        }
        return nil
    }

    static func backoff(attempt: Int) -> Duration {
        let base = min(0.5 * pow(2, Double(attempt)), 8)
        let jitter = Double.random(in: 0.75...1)
        return .milliseconds(Int64(base * jitter * 1000))
    }
}
