/// Every domain error has exactly one constructor here, so its code, class and wording are
/// decided once, whichever layer raises it.
extension BridgesError {
    // MARK: Not found

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
            .notFound, code: "login_session_not_found", message: "Bridge '\(bridgeID)' has no login session '\(id)'.")
    }

    /// Like an unknown loginID or accountID in the same body: a reference to nothing.
    public static func loginFlowNotFound(_ id: String, bridgeID: String, available: [String]) -> BridgesError {
        BridgesError(
            .notFound, code: "login_flow_not_found",
            message: "Bridge '\(bridgeID)' has no login flow '\(id)'; it has \(available.joined(separator: ", ")).",
            details: ["flowIDs": .array(available.map { .string($0) })])
    }

    // MARK: Conflicts with the state of a session or bridge

    /// A submit or cancel that reached a session which can no longer change.
    public static func sessionFinished(_ status: LoginSessionStatus) -> BridgesError {
        BridgesError(
            .conflict, code: "login_session_finished",
            message: "This login session is \(status.rawValue); start a new one.",
            details: ["status": .string(status.rawValue)])
    }

    public static func stepMismatch(submitted stepID: String, current: SessionStep) -> BridgesError {
        BridgesError(
            .conflict, code: "step_mismatch",
            message: "Step '\(stepID)' is not the current step of this session; the current step is '\(current.id)'.",
            details: ["currentStepID": .string(current.id), "currentStepType": .string(current.kind.rawValue)])
    }

    public static func stepTypeMismatch(submitted kind: StepKind, current: SessionStep) -> BridgesError {
        BridgesError(
            .conflict, code: "step_type_mismatch",
            message: "The current step is of type '\(current.kind.rawValue)', not '\(kind.rawValue)'.",
            details: ["currentStepID": .string(current.id), "currentStepType": .string(current.kind.rawValue)])
    }

    public static func accountLimitReached(bridge: BridgeDescriptor, existingLoginID: String) -> BridgesError {
        BridgesError(
            .conflict, code: "account_limit_reached",
            message: "\(bridge.displayName) allows one account and login '\(existingLoginID)' exists; reconnect it with loginID, or remove it first.",
            details: ["loginID": .string(existingLoginID)])
    }

    public static func noLoginFlows(bridgeID: String) -> BridgesError {
        BridgesError(.conflict, code: "no_login_flows", message: "Bridge '\(bridgeID)' offers no login flow.")
    }

    /// A bridge that cannot take logins now; a passing outage is an upstream failure, a bridge
    /// that is disabled or full is a conflict with its state.
    public static func bridgeUnavailable(_ bridge: BridgeDescriptor, _ unavailable: BridgeDescriptor.Unavailability) -> BridgesError {
        let message = "\(bridge.displayName) is not available: \(unavailable.reason)"
        if unavailable.status == .temporarilyUnavailable { return .upstream(message, code: "bridge_unavailable") }
        return BridgesError(.conflict, code: "bridge_\(unavailable.status.rawValue)", message: message)
    }

    // MARK: Limits

    /// Transient: sessions finish or expire, so the same request can pass later.
    public static func tooManySessions(limit: String) -> BridgesError {
        BridgesError(
            .tooManyRequests, code: "too_many_login_sessions",
            message: "Too many login sessions in progress (\(limit)). Finish or cancel one, or wait for idle ones to expire.")
    }

    public static func rateLimited(retryAfterSeconds seconds: Int) -> BridgesError {
        BridgesError(
            .tooManyRequests, code: "rate_limited",
            message: "Too many requests with this token; retry in \(seconds) second\(seconds == 1 ? "" : "s").",
            retryAfterSeconds: seconds)
    }

    public static func payloadTooLarge(limit: Int) -> BridgesError {
        BridgesError(.payloadTooLarge, code: "payload_too_large", message: "The request body is over the limit of \(limit) bytes.")
    }

    // MARK: Requests

    public static let unauthorized = BridgesError(
        .unauthorized, code: "unauthorized", message: "Unauthorized: invalid or missing token.")

    public static let missingBody = BridgesError(.badRequest, code: "missing_body", message: "This request needs a JSON body.")

    public static func validation(_ issues: [ValidationIssue]) -> BridgesError {
        let summary = issues.map(\.message).joined(separator: " ")
        return BridgesError(.unprocessable, code: "validation_failed", message: summary, issues: issues)
    }

    public static func invalidRemoveScope(_ scope: RemoveScope, loginID: String, allowed: [RemoveScope]) -> BridgesError {
        .validation([
            ValidationIssue(
                code: "invalid_scope",
                message: "Login '\(loginID)' cannot be removed with scope '\(scope.rawValue)'; it allows \(allowed.map(\.rawValue).joined(separator: ", ")).",
                path: [.key("body"), .key("scope")])
        ])
    }

    public static func accountOfOtherLogin(accountID: String, owner: String, named: String) -> BridgesError {
        .validation([
            ValidationIssue(
                code: "mismatch", message: "Account '\(accountID)' belongs to login '\(owner)', not '\(named)'.",
                path: [.key("body"), .key("accountID")])
        ])
    }

    // MARK: Upstream

    public static func upstream(_ message: String, code: String = "bridge_unreachable") -> BridgesError {
        BridgesError(.upstream, code: code, message: message)
    }

    /// Not transient: the bridge answers the same capabilities until it is changed.
    public static func invalidCapabilities(bridgeID: String) -> BridgesError {
        BridgesError(
            .upstream, code: "invalid_capabilities",
            message: "Bridge '\(bridgeID)' answered capabilities that do not fit the contract.", isTransient: false)
    }
}

extension SessionError {
    public static func userRemoved() -> SessionError {
        SessionError(code: "user_removed", message: "The user this login session belonged to was removed from the server.")
    }

    public static func serverRestarted() -> SessionError {
        SessionError(
            code: "server_restarted",
            message: "The server restarted while this login session was in progress. Start a new session.")
    }

    public static func expired(after idle: Duration) -> SessionError {
        let seconds = idle.components.seconds
        let minutes = Int(seconds / 60)
        let span = minutes >= 1 ? "\(minutes) minute\(minutes == 1 ? "" : "s")" : "\(seconds) seconds"
        return SessionError(
            code: "session_expired", message: "The login session expired after \(span) without activity. Start a new session.")
    }

    /// A failure the connector did not describe itself.
    public static func loginFailed(_ error: any Error) -> SessionError {
        SessionError(code: "login_failed", message: "The bridge failed this login: \(error)")
    }
}

// MARK: Users and sign-in

extension BridgesError {
    public static var environmentTokenNotRevocable: BridgesError {
        BridgesError(
            .badRequest, code: "token_not_revocable",
            message: "This token comes from the server's BRIDGES_ACCESS_TOKEN setting; remove it there to revoke it.")
    }

    public static func invalidSignIn(_ message: String) -> BridgesError {
        BridgesError(.badRequest, code: "invalid_signin_request", message: message)
    }

    /// Wrong user ID, password or Matrix token: one answer for all, so it tells nobody which.
    public static func wrongCredentials(_ message: String) -> BridgesError {
        BridgesError(.unauthorized, code: "invalid_credentials", message: message)
    }

    /// Refused by `users.allow`, or not a user the homeserver may vouch for; `reason` says which.
    public static func userNotAllowed(_ user: UserID? = nil, reason: String? = nil) -> BridgesError {
        BridgesError(
            .forbidden, code: "user_not_allowed",
            message: reason ?? "\(user.map(\.rawValue) ?? "This user") may not use this server; its operator decides who may (users.allow).")
    }

    public static func userDeactivated(_ message: String) -> BridgesError {
        BridgesError(.forbidden, code: "user_deactivated", message: message)
    }

    public static func homeserverRateLimited(_ message: String, retryAfterSeconds seconds: Int) -> BridgesError {
        BridgesError(.tooManyRequests, code: "homeserver_rate_limited", message: message, retryAfterSeconds: seconds)
    }

    public static func tooManySignInAttempts(retryAfterSeconds seconds: Int) -> BridgesError {
        BridgesError(
            .tooManyRequests, code: "too_many_signin_attempts",
            message: "Too many failed sign-in attempts; try again in \(seconds) s.", retryAfterSeconds: seconds)
    }

    /// The homeserver could not be asked, or answered something unusable; `transient` when
    /// trying again later can help.
    public static func homeserverFailed(_ message: String, code: String, transient: Bool) -> BridgesError {
        BridgesError(.upstream, code: code, message: message, isTransient: transient)
    }

    public static var signInNotConfigured: BridgesError {
        BridgesError(
            .notFound, code: "signin_not_configured",
            message: "This server does not offer Matrix sign-in; ask its operator for an access token (bridges token create).")
    }
}
