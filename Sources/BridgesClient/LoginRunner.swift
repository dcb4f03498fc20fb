import BridgesAPI

/// What to do at a step of a login, as ``BridgesClient/Bridges/runLogin(bridgeID:flowID:loginID:accountID:onStep:)``
/// asks it.
public enum LoginStepAnswer: Sendable {
    /// Submit these values for a `user_input` step.
    case userInput([String: String])
    /// Submit these values for a `cookies` step.
    case cookies([String: String], lastURL: String? = nil, source: StepSource? = .api)
    /// Wait for the bridge to move on from a `display_and_wait` step.
    case wait
    /// Cancel the session.
    case cancel
}

extension BridgesClient.Bridges {
    /// Runs a login session to its end: creates it, asks `onStep` what to do at each step,
    /// submits the answer, and returns the finished session (`complete`, `failed` or `cancelled`).
    ///
    /// `onStep` is called again whenever the session changes: after each submit, and each time a
    /// display changes (a refreshed QR code comes with a new `stepID`). While the bridge has not
    /// moved on from a display, answering ``LoginStepAnswer/wait`` follows the session's
    /// `login-session.updated` events on `/v1/ws` without calling `onStep` again for the same
    /// step; against a server without `/v1/ws` (Beeper Desktop) it submits the display, which
    /// waits in the server until the step changes. If the task is cancelled, the session is
    /// cancelled on the server before the error is rethrown.
    public func runLogin(
        bridgeID: String, flowID: String? = nil, loginID: String? = nil, accountID: String? = nil,
        onStep: @Sendable (LoginSession) async throws -> LoginStepAnswer
    ) async throws -> LoginSession {
        var session = try await loginSessions.create(bridgeID: bridgeID, flowID: flowID, loginID: loginID, accountID: accountID)
        var lastShown: String?
        // Events when the server has them (Bridges); a server without `/v1/ws` (Beeper Desktop)
        // is asked instead, each submit of a display waiting in the server until the step changes.
        var followsEvents = true
        var follower: SessionFollower?
        do {
            while !session.isFinished {
                guard let step = session.currentStep else {
                    session = try await loginSessions.retrieve(session.loginSessionID, bridgeID: bridgeID)
                    continue
                }
                let answer: LoginStepAnswer
                if step.kind == .displayAndWait, step.stepID == lastShown {
                    answer = .wait
                } else {
                    answer = try await onStep(session)
                    lastShown = step.stepID
                }
                try Task.checkCancellation()
                guard let stepID = step.stepID else { break }
                let steps = loginSessions.steps
                switch answer {
                case .userInput(let fields):
                    session = try await steps.submit(
                        stepID, bridgeID: bridgeID, loginSessionID: session.loginSessionID, type: .userInput, fields: fields)
                case .cookies(let fields, let lastURL, let source):
                    session = try await steps.submit(
                        stepID, bridgeID: bridgeID, loginSessionID: session.loginSessionID, type: .cookies, fields: fields,
                        lastURL: lastURL, source: source)
                case .wait:
                    if followsEvents {
                        var current = follower ?? SessionFollower(
                            events: events, sessions: loginSessions, bridgeID: bridgeID, sessionID: session.loginSessionID)
                        let next = try await current.next(after: session)
                        follower = current
                        if let next {
                            session = next
                            continue
                        }
                        followsEvents = false
                    }
                    session = try await steps.submit(
                        stepID, bridgeID: bridgeID, loginSessionID: session.loginSessionID, type: .displayAndWait)
                case .cancel:
                    _ = try await loginSessions.cancel(session.loginSessionID, bridgeID: bridgeID)
                    return try await loginSessions.retrieve(session.loginSessionID, bridgeID: bridgeID)
                }
            }
        } catch {
            if error is CancellationError || Task.isCancelled {
                let id = session.loginSessionID
                // The caller is gone; cancel in a task of its own so the request is not cancelled too.
                _ = await Task { try? await loginSessions.cancel(id, bridgeID: bridgeID) }.value
            }
            throw error
        }
        return session
    }
}

extension LoginSession {
    /// Whether the session has ended: `complete`, `failed` or `cancelled`.
    public var isFinished: Bool { status == .complete || status == .failed || status == .cancelled }
}

extension Components.Schemas.CurrentStep {
    /// The step's ID; a `complete` step may have none.
    public var stepID: String? {
        switch self {
        case .userInput(let step): step.stepID
        case .cookies(let step): step.stepID
        case .displayAndWait(let step): step.stepID
        case .complete(let step): step.stepID
        }
    }

    /// The step's type, as submitted.
    public var kind: StepKind {
        switch self {
        case .userInput: .userInput
        case .cookies: .cookies
        case .displayAndWait: .displayAndWait
        case .complete: .complete
        }
    }

    /// The kinds of step.
    public enum StepKind: Sendable, Hashable { case userInput, cookies, displayAndWait, complete }
}
