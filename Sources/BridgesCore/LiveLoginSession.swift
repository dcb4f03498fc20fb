import Foundation
import Logging

/// One live login session: runs what its ``SessionState`` asks for (connector calls, the
/// background wait on a display, writes to the store, timers) and serializes everything that
/// happens to it.
///
/// Submits of one step are serialized: a submit that arrives while the same step is being
/// applied waits for that application and answers its result, so an SDK's automatic retry never
/// applies a step twice.
actor LiveLoginSession {
    private var state: SessionState
    private let connector: any BridgeConnector
    private let process: any LoginProcess
    private let policy: SessionPolicy
    private let clock: AnyClock
    private let persist: @Sendable (LoginSessionRecord) async -> Void
    /// Announces the session as it is now; called after each change is saved, never before.
    private let publish: @Sendable (LoginSession) -> Void
    private let onFinish: @Sendable () -> Void
    /// Called once the connector made or re-authenticated a login, so it is announced too.
    private let onLoginChanged: @Sendable () async -> Void
    private let logger: Logger

    /// The step being applied, and the task applying it; its value is the error to answer
    /// the submitter with, if any.
    private var inFlight: (stepID: String, task: Task<BridgesError?, Never>)?
    private var displayTask: Task<Void, Never>?
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// The last write of this session's record; each write waits for the one before it, so
    /// the stored record never goes back to an older state.
    private var lastWrite: Task<Void, Never>?
    private(set) var lastTouched: AnyClock.Instant
    private(set) var finishedAt: AnyClock.Instant?

    init(
        session: LoginSession, connector: any BridgeConnector, started: StartedLogin, policy: SessionPolicy,
        clock: AnyClock, logger: Logger, persist: @escaping @Sendable (LoginSessionRecord) async -> Void,
        publish: @escaping @Sendable (LoginSession) -> Void, onFinish: @escaping @Sendable () -> Void,
        onLoginChanged: @escaping @Sendable () async -> Void
    ) {
        self.publish = publish
        self.onLoginChanged = onLoginChanged
        self.state = SessionState(session: session)
        self.connector = connector
        self.process = started.process
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.persist = persist
        self.onFinish = onFinish
        self.lastTouched = clock.now
    }

    var session: LoginSession { state.session }
    var isFinished: Bool { state.isFinished }

    /// Shows the connector's first step; called once, right after creation.
    func begin(with step: Step) async {
        await show(step)
    }

    func touch() -> LoginSession {
        lastTouched = clock.now
        return state.session
    }

    func submit(stepID: String, _ submission: StepSubmission) async throws -> LoginSession {
        lastTouched = clock.now
        if let inFlight, inFlight.stepID == stepID {
            if let error = await inFlight.task.value { throw error }
            return state.session
        }
        switch try state.decide(submitting: stepID, as: submission.type) {
        case .answerCurrentState:
            return state.session
        case .waitForChange(let version):
            await waitForChange(since: version)
            return state.session
        case .apply(let current):
            try StepValidation.check(submission, against: current.step)
            let task = Task { await self.apply(submission, to: current) }
            inFlight = (stepID, task)
            if let error = await task.value { throw error }
            return state.session
        }
    }

    /// Cancels the session; a session that already ended cannot be cancelled, except that a
    /// re-sent cancel answers the cancelled session.
    func cancel() async throws -> LoginSession {
        switch state.session.status {
        case .cancelled:
            return state.session
        case .complete, .failed:
            throw BridgesError.sessionFinished(state.session.status)
        case .waitingForInput, .waitingForCookies, .waitingForDisplay:
            await finish(.cancelled, error: nil)
            return state.session
        }
    }

    func expireIfIdle(now: AnyClock.Instant) async {
        guard !state.isFinished, lastTouched.duration(to: now) > policy.idleTimeout else { return }
        logger.info("login session expired", metadata: ["session": "\(state.session.id)"])
        await finish(.failed, error: .expired(after: policy.idleTimeout))
    }

    /// Ends an unfinished session as failed for a reason outside it (its user was removed).
    func fail(because error: SessionError) async {
        guard !state.isFinished else { return }
        await finish(.failed, error: error)
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
            guard state.isShowing(current) else { return nil }
            state.applied(current)
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
        switch state.show(step, at: Date()) {
        case .ignored:
            return
        case .waitForClient:
            wakeWaiters()
            await save()
        case .waitOnDisplay(let shown):
            wakeWaiters()
            await save()
            startWaiting(on: shown)
        case .lookUpLogin(let loginID):
            let login: Login?
            do {
                login = try await connector.logins(for: state.session.userID).first { $0.loginID == loginID }
            } catch {
                logger.warning(
                    "login completed but its details could not be read",
                    metadata: ["session": "\(state.session.id)", "error": "\(error)"])
                login = nil
            }
            guard state.complete(with: login, at: Date()) else { return }
            await ended()
            await onLoginChanged()
        }
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
        guard state.isShowing(shown) else { return }
        displayTask = nil
        await show(next)
    }

    private func displayFailed(_ shown: SessionStep, error: any Error) async {
        guard state.isShowing(shown), !Task.isCancelled else { return }
        await fail(with: error)
    }

    private func fail(with error: any Error) async {
        let sessionError: SessionError
        switch error {
        case let failed as LoginFailed:
            sessionError = failed.error
        case let domain as BridgesError:
            sessionError = SessionError(code: domain.code, message: domain.message, details: domain.details)
        default:
            sessionError = .loginFailed(error)
        }
        logger.info("login session failed", metadata: ["session": "\(state.session.id)", "code": "\(sessionError.code)"])
        await finish(.failed, error: sessionError)
    }

    private func finish(_ status: LoginSessionStatus, error: SessionError?) async {
        guard state.end(status, error: error, at: Date()) else { return }
        await ended()
        await process.cancel()
    }

    /// Bookkeeping shared by every way a session ends.
    private func ended() async {
        finishedAt = clock.now
        displayTask?.cancel()
        displayTask = nil
        onFinish()
        wakeWaiters()
        await save()
    }

    /// Writes the record in a task of its own: a client that hangs up, or the display task
    /// ending itself, must not cancel the write of a state the session has already reached.
    private func save() async {
        let session = state.session
        let previous = lastWrite
        // Announced inside the chain of writes, so events leave in the order the states were saved.
        let write = Task { [persist, publish] in
            await previous?.value
            await persist(session.record)
            publish(session)
        }
        lastWrite = write
        await write.value
        // A finished write holds its task for nothing: 10,000 idle sessions kept 3 KB each this way.
        if lastWrite == write { lastWrite = nil }
    }

    // MARK: - Display waits

    private func wakeWaiters() {
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting.values { waiter.resume() }
    }

    /// Returns when the session changes after `version`, or after the policy's display wait.
    private func waitForChange(since version: Int) async {
        guard state.version == version else { return }
        let id = UUID()
        let timer = Task { [weak self, clock, wait = policy.displayWait] in
            try? await clock.sleep(for: wait)
            await self?.wake(id)
        }
        await withCheckedContinuation { waiters[id] = $0 }
        timer.cancel()
    }

    private func wake(_ id: UUID) {
        waiters.removeValue(forKey: id)?.resume()
    }
}
