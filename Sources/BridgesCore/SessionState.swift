import Foundation

/// The transitions of one login session, as a value: each `mutating func` changes the session
/// as clients will see it and returns what the caller must do next. It does no I/O and knows
/// no clock, so every rule of the state machine can be read, and tested, in one place; the
/// ``LiveLoginSession`` actor runs the connector calls, timers and writes it asks for.
struct SessionState: Sendable {
    private(set) var session: LoginSession
    /// Wire IDs of steps that were applied or replaced; a re-sent submit of one is answered
    /// with the current state instead of a conflict.
    private var appliedStepIDs: Set<String> = []
    private var stepCounter = 0
    /// Bumped on every change a client can see; display waiters compare it.
    private(set) var version = 0

    init(session: LoginSession) {
        self.session = session
    }

    var isFinished: Bool { session.status.isTerminal }

    /// What a submit of `stepID` should do.
    enum SubmitDecision: Equatable {
        /// A re-sent submit of a step that was already applied: answer the current state.
        case answerCurrentState
        /// A `display_and_wait` submit: block until the session changes, then answer.
        case waitForChange(since: Int)
        /// Hand the values to the connector for this step.
        case apply(SessionStep)
    }

    func decide(submitting stepID: String, as kind: StepKind) throws -> SubmitDecision {
        guard let current = session.currentStep, !session.status.isTerminal else {
            if appliedStepIDs.contains(stepID) || session.currentStep?.id == stepID { return .answerCurrentState }
            throw BridgesError.sessionFinished(session.status)
        }
        guard current.id == stepID else {
            if appliedStepIDs.contains(stepID) { return .answerCurrentState }
            throw BridgesError.stepMismatch(submitted: stepID, current: current)
        }
        guard kind == current.kind else {
            throw BridgesError.stepTypeMismatch(submitted: kind, current: current)
        }
        if current.kind == .displayAndWait { return .waitForChange(since: version) }
        return .apply(current)
    }

    /// What showing a connector's step asks of the caller.
    enum ShowOutcome: Equatable {
        /// The session waits for the client; save it.
        case waitForClient
        /// The session shows a display; save it and wait on the connector in the background.
        case waitOnDisplay(SessionStep)
        /// The connector finished the login: look it up, then call ``complete(with:)``.
        case lookUpLogin(loginID: String)
        /// The session had already ended; nothing changes.
        case ignored
    }

    mutating func show(_ step: Step, at now: Date) -> ShowOutcome {
        guard !session.status.isTerminal else { return .ignored }
        if let previous = session.currentStep { appliedStepIDs.insert(previous.id) }
        stepCounter += 1
        let shown = SessionStep(id: "\(step.id).\(stepCounter)", step: step)
        session.currentStep = shown
        switch step.content {
        case .complete(let loginID):
            session.loginID = loginID
            return .lookUpLogin(loginID: loginID)
        case .userInput, .cookies, .display:
            session.status = LoginSessionStatus(waitingFor: step.kind)
            changed(at: now)
            return step.kind == .displayAndWait ? .waitOnDisplay(shown) : .waitForClient
        }
    }

    /// Whether `step` is still what the session shows, so a late answer about it may move the session.
    func isShowing(_ step: SessionStep) -> Bool {
        session.currentStep?.id == step.id && !session.status.isTerminal
    }

    /// Records that the values for `step` were applied, so a re-sent submit answers the new state.
    mutating func applied(_ step: SessionStep) {
        appliedStepIDs.insert(step.id)
    }

    /// Ends the session complete, with the login the connector made (when it could be read);
    /// returns `false` when the session ended otherwise while the login was looked up.
    mutating func complete(with login: Login?, at now: Date) -> Bool {
        guard !session.status.isTerminal else { return false }
        session.login = login
        if let login, session.accountID.map({ id in !login.accounts.contains { $0.accountID == id } }) ?? true {
            session.accountID = login.accounts.first?.accountID
        }
        return end(.complete, error: nil, at: now)
    }

    /// Ends the session cancelled or failed; returns `false` when it had already ended.
    @discardableResult
    mutating func end(_ status: LoginSessionStatus, error: SessionError?, at now: Date) -> Bool {
        guard !session.status.isTerminal else { return false }
        session.status = status
        session.error = error
        if status != .complete { session.currentStep = nil }
        changed(at: now)
        return true
    }

    private mutating func changed(at now: Date) {
        version += 1
        session.updatedAt = now
    }
}

extension LoginSessionStatus {
    init(waitingFor kind: StepKind) {
        switch kind {
        case .userInput: self = .waitingForInput
        case .cookies: self = .waitingForCookies
        case .displayAndWait: self = .waitingForDisplay
        case .complete: self = .complete
        }
    }
}
