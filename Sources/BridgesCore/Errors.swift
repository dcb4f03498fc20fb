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

    public static func serverRestarted() -> SessionError {
        SessionError(
            code: "server_restarted",
            message: "The server restarted while this login session was in progress. Start a new session.")
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

    public init(
        _ kind: Kind, code: String, message: String, issues: [ValidationIssue] = [],
        details: [String: JSONValue]? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.issues = issues
        self.details = details
    }

    public var description: String { "\(code): \(message)" }

    public static func bridgeNotFound(_ id: String) -> BridgesError {
        BridgesError(.notFound, code: "bridge_not_found", message: "No bridge with ID '\(id)'.")
    }
    public static func loginNotFound(_ id: String, bridgeID: String) -> BridgesError {
        BridgesError(.notFound, code: "login_not_found", message: "Bridge '\(bridgeID)' has no login '\(id)'.")
    }
    public static func accountNotFound(_ id: String) -> BridgesError {
        BridgesError(.notFound, code: "account_not_found", message: "No account with ID '\(id)'.")
    }
    public static func sessionNotFound(_ id: String, bridgeID: String) -> BridgesError {
        BridgesError(
            .notFound, code: "login_session_not_found",
            message: "Bridge '\(bridgeID)' has no login session '\(id)'.")
    }
    public static func validation(_ issues: [ValidationIssue]) -> BridgesError {
        let summary = issues.map(\.message).joined(separator: " ")
        return BridgesError(.unprocessable, code: "validation_failed", message: summary, issues: issues)
    }
    public static func upstream(_ message: String, code: String = "bridge_unreachable") -> BridgesError {
        BridgesError(.upstream, code: code, message: message)
    }
}
