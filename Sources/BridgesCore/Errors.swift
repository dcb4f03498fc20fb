/// An error carried inside a login session (`LoginSession.error` on the wire).
public struct SessionError: Sendable, Hashable, Codable, Error {
    public var code: String
    public var message: String
    public var details: [String: JSONValue]?

    public init(code: String, message: String, details: [String: JSONValue]? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

/// A connector throws this to end a login session as `failed` (wrong password, code rejected,
/// the upstream bridge refused). The HTTP call that caused it still succeeds: the session's
/// `status` and `error` tell the client what happened.
public struct LoginFailed: Error, Sendable {
    public var error: SessionError
    public init(code: String, message: String, details: [String: JSONValue]? = nil) {
        self.error = SessionError(code: code, message: message, details: details)
    }
}

/// A validation problem with one input value, reported as `details.issues` on the wire.
public struct ValidationIssue: Sendable, Hashable {
    public enum PathElement: Sendable, Hashable {
        case key(String)
        case index(Int)
    }
    public var code: String
    public var message: String
    public var path: [PathElement]

    public init(code: String, message: String, path: [PathElement]) {
        self.code = code
        self.message = message
        self.path = path
    }
}

/// The domain's errors. `kind` says which class of failure it is; the server maps kinds to
/// HTTP statuses, so the core never speaks HTTP.
public struct BridgesError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case badRequest
        case unauthorized
        case forbidden
        case notFound
        case conflict
        case unprocessable
        case tooManyRequests
        case payloadTooLarge
        case upstream
        case internalError
    }

    public var kind: Kind
    public var code: String
    public var message: String
    public var issues: [ValidationIssue]
    public var details: [String: JSONValue]?
    /// Whether the same request can succeed if sent again later: a limit that refills, a bridge
    /// that is briefly down. Clients are told, so they do not retry what cannot change.
    public var isTransient: Bool
    /// When waiting helps, how long to wait before sending the same request again.
    public var retryAfterSeconds: Int?

    /// `isTransient` defaults to what the kind implies: limits and upstream failures pass.
    public init(
        _ kind: Kind, code: String, message: String, issues: [ValidationIssue] = [],
        details: [String: JSONValue]? = nil, isTransient: Bool? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.issues = issues
        self.details = details
        self.isTransient = isTransient ?? (kind == .tooManyRequests || kind == .upstream)
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code): \(message)" }
}
