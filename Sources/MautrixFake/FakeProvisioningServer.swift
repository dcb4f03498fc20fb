import NIOCore
import Synchronization

/// An in-process fake of a mautrix bridgev2 bridge's provisioning API (`/_matrix/provision/v3/...`),
/// modelled on beeper/dummybridge.
///
/// * `.old` answers byte-for-byte like the live transcript in `shared/docs/mautrix-transcript.md`
///   (mautrix-go v0.26: no `txn_id`, no cancel endpoint, the step runs inside the HTTP request).
/// * `.new` follows mautrix-go v0.30 (`bridgev2/matrix/provisioninglogin.go`): `txn_id` on every
///   step, `POST /v3/login/cancel/{id}`, steps that keep running when the client goes away, 410s,
///   and connector errors with `fi.mau.internal_error`.
///
/// Besides dummybridge's four flows it offers a `qr` flow, driven by `refreshQR()` and `scanQR()`,
/// and a 2FA step for usernames that contain `2fa`. Bodies end with `\n` where Go's
/// `json.Encoder` adds one; `{}` and the 404/405 routing errors don't, as in mautrix.
///
/// Like a bridge with several users, it keeps each user's logins and login processes apart and
/// lets in only the users its permissions allow (by default the one `userID`); anyone else gets
/// `403 M_FORBIDDEN "User does not have login permissions"`.
///
/// The logins and login processes are a value (`LoginStateMachine`); this class owns it behind a
/// lock, parks the requests it says to wait, and answers them when it says so.
public final class FakeProvisioningServer: Sendable {
    public enum Generation: Sendable { case old, new }

    public enum Fault: Sendable, Equatable {
        case none
        /// Stops listening: requests on open connections have their connection closed without an
        /// answer at once, and the listener closes soon after, so new connections are refused.
        /// Leave it with `setFault(_:)` (restarts listening in the background) or, to know when
        /// the bridge is back, `try await start()` (same URL).
        case refuseConnections
        /// Accepts each request and never answers it (until the client goes away or `stop()`).
        case hang
        /// Answers every request 200 with a body that is not JSON.
        case garbage
        /// Sleeps this long, then handles the request normally.
        case slow(Duration)
    }

    /// One request as it arrived, with the user it acted for (`user_id`, decoded; `nil` when absent).
    public struct RecordedRequest: Sendable, Equatable {
        public let method: String
        public let path: String
        public let query: String?
        public let userID: String?

        /// "METHOD /_matrix/provision/...?query", path and query as sent.
        public var line: String { "\(method) \(path)" + (query.map { "?\($0)" } ?? "") }
    }

    public let generation: Generation
    public let secret: String
    /// The bridge's default user: the one the inspection and control calls without a user act
    /// for, and whose server is the bridge's own.
    public let userID: String
    /// Who may use the provisioning API.
    public let permittedUsers: Set<String>

    /// The server part of `userID`: the bridge's homeserver, which `/v3/whoami` names.
    var homeServer: String {
        userID.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
    }

    let state: Mutex<ServerState>
    private let listener: FakeListener

    /// `permittedUsers`: who has login permission; `nil` permits `userID` alone.
    /// `shutdownGrace`: how long `stop()` lets a request that is still being answered run
    /// before cancelling it.
    public init(
        generation: Generation, secret: String = "fake-provisioning-secret-0123456789",
        userID: String = "@alice:example.test", permittedUsers: Set<String>? = nil,
        shutdownGrace: Duration = .seconds(2)
    ) {
        self.generation = generation
        self.secret = secret
        self.userID = userID
        self.permittedUsers = permittedUsers ?? [userID]
        self.state = Mutex(ServerState(machine: LoginStateMachine(generation: generation)))
        self.listener = FakeListener(shutdownGrace: shutdownGrace)
    }

    // MARK: Lifecycle

    /// Starts listening on 127.0.0.1 (an ephemeral port the first time, the same port after a
    /// `stop()` or `refuseConnections` when it can be had again) and returns
    /// "http://127.0.0.1:PORT", without the `/_matrix/provision` prefix. A `refuseConnections`
    /// fault is cleared. Calling it while running just returns the URL.
    public func start() async throws -> String {
        state.withLock { s in
            if s.fault == .refuseConnections { s.fault = .none }
        }
        return try await listener.start(responder: FakeResponder(server: self))
    }

    /// Stops listening and ends every pending request. Logins and login processes are kept, so
    /// `start()` brings the same bridge back.
    public func stop() async {
        await listener.stop(draining: drainingHooks)
    }

    public func setFault(_ fault: Fault) {
        let previous = state.withLock { s in
            let previous = s.fault
            s.fault = fault
            return previous
        }
        if fault == .refuseConnections, previous != .refuseConnections {
            listener.pause(draining: drainingHooks)
        } else if previous == .refuseConnections, fault != .refuseConnections {
            listener.resume(responder: FakeResponder(server: self))
        }
    }

    /// Returns once the listener has started or stopped as the faults set so far ask, since
    /// `setFault(_:)` changes it in the background.
    public func settle() async {
        await listener.settle()
    }

    /// While the listener shuts down, pending long-polls and hangs end (their connections close)
    /// and new ones end at once.
    private var drainingHooks: FakeListener.Draining {
        FakeListener.Draining(
            begin: { [self] in
                resume(
                    state.withLock { s in
                        s.stopping = true
                        for id in Array(s.allocated.keys) { s.allocated[id] = .abandoned }
                        let wakeups = s.machine.abandonAll()
                        return s.claim(wakeups)
                    })
            },
            end: { [self] in state.withLock { $0.stopping = false } })
    }

    // MARK: Inspection

    /// Requests received so far, as "METHOD /_matrix/provision/...?query" (path and query as sent).
    public var requests: [String] { state.withLock { $0.requests.map(\.line) } }

    /// Requests received so far, with the user each named.
    public var recordedRequests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Bodies of the `POST .../v3/login/step/...` requests received so far, in order ("" when empty).
    public var stepBodies: [String] { state.withLock { $0.stepBodies } }

    /// IDs of the default user's current logins (what `GET /v3/logins` answers them).
    public var loginIDs: [String] { loginIDs(of: userID) }

    /// IDs of a user's current logins.
    public func loginIDs(of user: String) -> [String] {
        state.withLock { $0.machine.logins(of: user).map(\.id) }
    }

    /// Waits (yielding, not sleeping) until `count` display-and-wait long-polls have been parked
    /// since the start, answered or not, so a test acts once its client is actually waiting
    /// rather than after a guessed delay.
    public func waitForLongPolls(_ count: Int) async {
        while state.withLock({ $0.machine.longPollsParked }) < count { try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// Waits (yielding) until no long-poll is parked: their clients have gone and the fake has
    /// noticed, or they have been answered.
    public func waitUntilNoLongPollIsPending() async {
        while state.withLock({ $0.machine.longPollsPending }) > 0 { try? await Task.sleep(for: .milliseconds(1)) }
    }

    // MARK: Control

    /// Every login process now showing a display-and-wait step (`qr` or `displayandwait`) gets a
    /// new code: a pending long-poll returns the same step ID with new data (`qr-payload-<n+1>`).
    /// Without a long-poll in progress the refresh is queued for the process's next poll; with no
    /// such process at all it is kept for the next one started. `user` limits it to that user's
    /// processes; `nil` reaches everyone's.
    public func refreshQR(for user: String? = nil) { run { $0.machine.broadcast(.refresh, to: user) } }

    /// Every login process now showing a display-and-wait step completes (`qr-user`/`daw-user`),
    /// queued and limited like `refreshQR(for:)`.
    public func scanQR(for user: String? = nil) { run { $0.machine.broadcast(.scan, to: user) } }

    /// Sets the bridge state `/v3/whoami` reports for a login of `user` (default: `userID`),
    /// creating the login if it is absent. `error` (an extra, optional) also sets the TTL to 3600
    /// as bridgev2 does.
    public func setState(
        loginID: String, stateEvent: String, userAction: String? = nil, message: String? = nil,
        error: String? = nil, user: String? = nil
    ) {
        state.withLock { s in
            s.machine.setState(
                loginID: loginID, userID: user ?? userID, stateEvent: stateEvent, userAction: userAction,
                message: message, error: error)
        }
    }

    // MARK: Parked requests

    typealias Outcome = LoginStateMachine.Outcome

    /// Feeds one input to the machine under the lock, then answers the requests it woke.
    func run(_ input: (inout ServerState) -> [LoginStateMachine.Wakeup]) {
        resume(
            state.withLock { s in
                let wakeups = input(&s)
                return s.claim(wakeups)
            })
    }

    private func resume(_ due: [(CheckedContinuation<Outcome, Never>, Outcome)]) {
        for (continuation, outcome) in due { continuation.resume(returning: outcome) }
    }

    /// Parks the request until the machine answers it. `register` gives the machine the request
    /// under the waiter ID, in the same critical section that parks it, so no wakeup is missed.
    /// The wait ends early, as `.abandoned`, when the client goes away or the task is cancelled.
    func suspend(
        context: FakeContext, register: (inout LoginStateMachine, UInt64) -> [LoginStateMachine.Wakeup]
    ) async -> Outcome {
        let id = state.withLock { $0.allocateWaiter() }
        let watcher = try? await context.channel.pipeline.handler(type: ConnectionWatcher.self).get()
        let token = watcher?.onClose { [weak self] in self?.abandon(id) }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                run { s in
                    let abandoned = s.allocated.removeValue(forKey: id) == .abandoned
                    s.parked[id] = continuation
                    var wakeups = register(&s.machine, id)
                    // Gone before it could wait: a wait it registered ends now (an answer given
                    // at once stands).
                    if abandoned || s.stopping { wakeups += s.machine.abandon(id) }
                    return wakeups
                }
            }
        } onCancel: {
            self.abandon(id)
        }
        if let token { watcher?.removeCallback(token) }
        return outcome
    }

    private func abandon(_ id: UInt64) {
        run { s in
            let wakeups = s.machine.abandon(id)
            // Not parked yet: `suspend` ends the wait as soon as it registers.
            if wakeups.isEmpty, s.allocated[id] != nil { s.allocated[id] = .abandoned }
            return wakeups
        }
    }
}

/// What the server keeps besides the machine: the fault, what it received, and the parked
/// requests' continuations, which the machine knows only by their waiter ID.
struct ServerState {
    enum Allocation { case waiting, abandoned }

    var machine: LoginStateMachine
    var fault: FakeProvisioningServer.Fault = .none
    var requests: [FakeProvisioningServer.RecordedRequest] = []
    var stepBodies: [String] = []
    var parked: [UInt64: CheckedContinuation<LoginStateMachine.Outcome, Never>] = [:]
    /// Waiter IDs handed out but not parked yet, and whether their client already left.
    var allocated: [UInt64: Allocation] = [:]
    var nextWaiter: UInt64 = 0
    /// The server is shutting down: waits end at once.
    var stopping = false

    mutating func allocateWaiter() -> UInt64 {
        nextWaiter += 1
        allocated[nextWaiter] = .waiting
        return nextWaiter
    }

    /// The continuations of the woken requests, to resume once the lock is released.
    mutating func claim(
        _ wakeups: [LoginStateMachine.Wakeup]
    ) -> [(CheckedContinuation<LoginStateMachine.Outcome, Never>, LoginStateMachine.Outcome)] {
        wakeups.compactMap { wakeup in parked.removeValue(forKey: wakeup.waiter).map { ($0, wakeup.outcome) } }
    }
}
