import Foundation
import Logging

/// A step as a session shows it: the connector's step under a session-unique wire ID.
public struct SessionStep: Sendable, Hashable {
    /// Unique within the session, so a step that was applied can be told apart from a later
    /// step that the connector happens to give the same ID (bridgev2 reuses step IDs).
    public var id: String
    public var step: Step

    public var kind: StepKind { step.kind }
}

/// A login session at one moment, as the API answers it.
public struct LoginSession: Sendable, Hashable {
    public var id: String
    public var bridgeID: String
    public var flowID: String
    public var status: LoginSessionStatus
    /// Present while the session waits for the client, and once it completes.
    public var currentStep: SessionStep?
    public var error: SessionError?
    public var loginID: String?
    public var accountID: String?
    /// The login this session created or re-authenticated, once complete.
    public var login: Login?
    public var createdAt: Date
    public var updatedAt: Date

    var record: LoginSessionRecord {
        LoginSessionRecord(
            id: id, bridgeID: bridgeID, flowID: flowID, status: status, error: error, loginID: loginID,
            accountID: accountID, createdAt: createdAt, updatedAt: updatedAt)
    }

    init(record: LoginSessionRecord) {
        id = record.id
        bridgeID = record.bridgeID
        flowID = record.flowID
        status = record.status
        error = record.error
        loginID = record.loginID
        accountID = record.accountID
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    init(id: String, bridgeID: String, flowID: String, loginID: String?, accountID: String?, now: Date) {
        self.id = id
        self.bridgeID = bridgeID
        self.flowID = flowID
        self.status = .waitingForInput
        self.loginID = loginID
        self.accountID = accountID
        self.createdAt = now
        self.updatedAt = now
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

/// Tunables of the session state machine.
public struct SessionPolicy: Sendable {
    /// A session nobody touches for this long ends `failed` with `session_expired`.
    public var idleTimeout: Duration
    /// How long a `display_and_wait` submit blocks before answering with the unchanged session;
    /// well under the official SDKs' 30 s read timeout so they never retry a wait.
    public var displayWait: Duration
    /// How long a finished session stays in memory (to answer re-sent submits with its state)
    /// before only its stored record remains.
    public var finishedRetention: Duration

    /// Live (unfinished) sessions allowed per bridge and in all; past them, creating one is refused.
    public var maxLivePerBridge: Int
    public var maxLiveTotal: Int

    public init(
        idleTimeout: Duration = .seconds(600), displayWait: Duration = .seconds(20),
        finishedRetention: Duration = .seconds(60), maxLivePerBridge: Int = 32, maxLiveTotal: Int = 256
    ) {
        self.idleTimeout = idleTimeout
        self.displayWait = displayWait
        self.finishedRetention = finishedRetention
        self.maxLivePerBridge = maxLivePerBridge
        self.maxLiveTotal = maxLiveTotal
    }
}

/// One live login session: the state machine between a client and a connector's login process.
///
/// Every transition happens on this actor. Submits of one step are serialized: a submit that
/// arrives while the same step is being applied waits for that application and answers its
/// result, so an SDK's automatic retry never applies a step twice.
actor LiveLoginSession {
    private(set) var session: LoginSession
    private let connector: any BridgeConnector
    private let process: any LoginProcess
    private let policy: SessionPolicy
    private let persist: @Sendable (LoginSessionRecord) async -> Void
    private let logger: Logger

    /// Wire IDs of steps that were applied or replaced; a re-sent submit of one is answered
    /// with the current state instead of a conflict.
    private var appliedStepIDs: Set<String> = []
    private var stepCounter = 0
    /// The step being applied, and the task applying it; its value is the error to answer
    /// the submitter with, if any.
    private var inFlight: (stepID: String, task: Task<BridgesError?, Never>)?
    private var displayTask: Task<Void, Never>?
    private var version = 0
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// The last write of this session's record; each write waits for the one before it, so
    /// the stored record never goes back to an older state.
    private var lastWrite: Task<Void, Never>?
    private(set) var lastTouched: ContinuousClock.Instant = .now
    private(set) var finishedAt: ContinuousClock.Instant?

    init(
        session: LoginSession, connector: any BridgeConnector, started: StartedLogin, policy: SessionPolicy,
        logger: Logger, persist: @escaping @Sendable (LoginSessionRecord) async -> Void
    ) {
        self.session = session
        self.connector = connector
        self.process = started.process
        self.policy = policy
        self.logger = logger
        self.persist = persist
    }

    /// Shows the connector's first step; called once, right after creation.
    func begin(with step: Step) async {
        await show(step)
    }

    func touch() -> LoginSession {
        lastTouched = .now
        return session
    }

    var isFinished: Bool { session.status.isTerminal }

    func submit(stepID: String, _ submission: StepSubmission) async throws -> LoginSession {
        lastTouched = .now
        if let inFlight, inFlight.stepID == stepID {
            if let error = await inFlight.task.value { throw error }
            return session
        }
        guard let current = session.currentStep, !session.status.isTerminal else {
            if appliedStepIDs.contains(stepID) || session.currentStep?.id == stepID { return session }
            throw BridgesError(
                .conflict, code: "login_session_finished",
                message: "This login session is \(session.status.rawValue); start a new one.",
                details: ["status": .string(session.status.rawValue)])
        }
        guard current.id == stepID else {
            if appliedStepIDs.contains(stepID) { return session }
            throw BridgesError(
                .conflict, code: "step_mismatch",
                message: "Step '\(stepID)' is not the current step of this session; the current step is '\(current.id)'.",
                details: ["currentStepID": .string(current.id), "currentStepType": .string(current.kind.rawValue)])
        }
        guard submission.type == current.kind else {
            throw BridgesError(
                .conflict, code: "step_type_mismatch",
                message: "The current step is of type '\(current.kind.rawValue)', not '\(submission.type.rawValue)'.",
                details: ["currentStepID": .string(current.id), "currentStepType": .string(current.kind.rawValue)])
        }
        if current.kind == .displayAndWait {
            await waitForChange(since: version, timeout: policy.displayWait)
            return session
        }
        try validate(submission, against: current.step)
        let task = Task { await self.apply(submission, to: current) }
        inFlight = (stepID, task)
        if let error = await task.value { throw error }
        return session
    }

    func cancel() async {
        guard !session.status.isTerminal else { return }
        await finish(.cancelled, error: nil)
    }

    func expireIfIdle(now: ContinuousClock.Instant) async {
        guard !session.status.isTerminal, now - lastTouched > policy.idleTimeout else { return }
        let minutes = Int(policy.idleTimeout.components.seconds / 60)
        let span = minutes >= 1 ? "\(minutes) minute\(minutes == 1 ? "" : "s")" : "\(policy.idleTimeout.components.seconds) seconds"
        logger.info("login session expired", metadata: ["session": "\(session.id)"])
        await finish(
            .failed,
            error: SessionError(
                code: "session_expired",
                message: "The login session expired after \(span) without activity. Start a new session."))
    }

    /// Ends the session without telling the connector, for a server that is shutting down.
    func abandon() {
        displayTask?.cancel()
    }

    // MARK: - Transitions

    /// Returns the error the submitter should see: input the connector rejected leaves the
    /// session as it was; anything else ends it, and an upstream failure is also reported as such.
    private func apply(_ submission: StepSubmission, to current: SessionStep) async -> BridgesError? {
        defer { inFlight = nil }
        do {
            let next = try await process.submit(submission, to: current.step)
            guard session.currentStep?.id == current.id, !session.status.isTerminal else { return nil }
            appliedStepIDs.insert(current.id)
            await show(next)
            return nil
        } catch let error as BridgesError where error.kind == .unprocessable || error.kind == .badRequest {
            return error
        } catch {
            await fail(with: error)
            if let domain = error as? BridgesError, domain.kind == .upstream { return domain }
            return nil
        }
    }

    private func show(_ step: Step) async {
        guard !session.status.isTerminal else { return }
        if let previous = session.currentStep { appliedStepIDs.insert(previous.id) }
        stepCounter += 1
        let wireStep = SessionStep(id: "\(step.id).\(stepCounter)", step: step)
        session.currentStep = wireStep
        if case .complete(let loginID) = step.content {
            await complete(loginID: loginID)
            return
        }
        session.status = LoginSessionStatus(waitingFor: step.kind)
        changed()
        await save()
        if step.kind == .displayAndWait { startWaiting(on: wireStep) }
    }

    private func startWaiting(on shown: SessionStep) {
        displayTask?.cancel()
        displayTask = Task { [process] in
            do {
                let next = try await process.waitForNextStep(after: shown.step)
                await self.displayEnded(shown, next: next)
            } catch is CancellationError {
                return
            } catch {
                await self.displayFailed(shown, error: error)
            }
        }
    }

    private func displayEnded(_ shown: SessionStep, next: Step) async {
        guard session.currentStep?.id == shown.id, !session.status.isTerminal else { return }
        displayTask = nil
        await show(next)
    }

    private func displayFailed(_ shown: SessionStep, error: any Error) async {
        guard session.currentStep?.id == shown.id, !session.status.isTerminal else { return }
        if Task.isCancelled { return }
        await fail(with: error)
    }

    private func complete(loginID: String) async {
        session.loginID = loginID
        do {
            let login = try await connector.logins().first { $0.loginID == loginID }
            session.login = login
            if let login, session.accountID.map({ id in !login.accounts.contains { $0.accountID == id } }) ?? true {
                session.accountID = login.accounts.first?.accountID
            }
        } catch {
            logger.warning(
                "login completed but its details could not be read",
                metadata: ["session": "\(session.id)", "error": "\(error)"])
        }
        await finish(.complete, error: nil)
    }

    private func fail(with error: any Error) async {
        let sessionError: SessionError
        switch error {
        case let failed as LoginFailed:
            sessionError = failed.error
        case let domain as BridgesError:
            sessionError = SessionError(code: domain.code, message: domain.message, details: domain.details)
        default:
            sessionError = SessionError(code: "login_failed", message: "The bridge failed this login: \(error)")
        }
        logger.info(
            "login session failed", metadata: ["session": "\(session.id)", "code": "\(sessionError.code)"])
        await finish(.failed, error: sessionError)
    }

    private func finish(_ status: LoginSessionStatus, error: SessionError?) async {
        session.status = status
        session.error = error
        if status != .complete { session.currentStep = nil }
        finishedAt = .now
        displayTask?.cancel()
        displayTask = nil
        changed()
        await save()
        if status != .complete { await process.cancel() }
    }

    /// Writes the record in a task of its own: a client that hangs up, or the display task
    /// ending itself, must not cancel the write of a state the session has already reached.
    private func save() async {
        let record = session.record
        let previous = lastWrite
        let write = Task { [persist] in
            await previous?.value
            await persist(record)
        }
        lastWrite = write
        await write.value
    }

    private func changed() {
        version += 1
        session.updatedAt = Date()
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting.values { waiter.resume() }
    }

    private func waitForChange(since seen: Int, timeout: Duration) async {
        guard version == seen else { return }
        let id = UUID()
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.wake(id)
        }
        await withCheckedContinuation { waiters[id] = $0 }
        timer.cancel()
    }

    private func wake(_ id: UUID) {
        waiters.removeValue(forKey: id)?.resume()
    }

    // MARK: - Input validation

    private func validate(_ submission: StepSubmission, against step: Step) throws {
        var issues: [ValidationIssue] = []
        func check(id: String, optional: Bool, pattern: String?) {
            let value = submission.fields[id] ?? ""
            if value.isEmpty {
                if !optional {
                    issues.append(
                        ValidationIssue(
                            code: "required", message: "Field '\(id)' is required.",
                            path: [.key("body"), .key("fields"), .key(id)]))
                }
                return
            }
            if let pattern, value.range(of: pattern, options: .regularExpression) == nil {
                issues.append(
                    ValidationIssue(
                        code: "invalid_format", message: "Field '\(id)' does not have the expected format.",
                        path: [.key("body"), .key("fields"), .key(id)]))
            }
        }
        switch step.content {
        case .userInput(let fields, _):
            for field in fields { check(id: field.id, optional: field.optional, pattern: field.pattern) }
        case .cookies(let prompt):
            for field in prompt.fields { check(id: field.id, optional: field.optional, pattern: nil) }
        case .display, .complete:
            break
        }
        if !issues.isEmpty { throw BridgesError.validation(issues) }
    }
}
