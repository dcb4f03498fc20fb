/// The bridge's logins and login processes, as a value (postgres-nio's connection state machines
/// are the model): each `mutating func` takes one input (a request, a control call, a client
/// going away) and returns what to answer and which waiting requests to wake. It never suspends
/// or resumes anything itself, so the server can run it under a lock and do the I/O outside.
///
/// Both protocol generations share the logins and the connector's behaviour (dummybridge's);
/// they differ in how a step request is checked and whether a display-and-wait step outlives its
/// long-poll, which `submitOld` and `submitNew` keep apart.
///
/// Logins and login processes belong to the Matrix user who made them, as on a bridge: another
/// user's are answered exactly like missing ones (404 `Login not found`).
struct LoginStateMachine {
    /// A request parked by the server, to be answered later.
    enum WaiterKind { case hang, poll(processID: String) }

    enum Outcome: Sendable {
        case reply(Reply)
        /// The client went away (or the server stopped) before there was an answer.
        case abandoned
    }

    /// A parked request the server must now answer.
    struct Wakeup {
        let waiter: UInt64
        let outcome: Outcome
    }

    struct StepSubmission: Sendable {
        let userID: String
        let processID: String
        let stepID: String
        let stepType: String
        let txnID: String
        let body: String
    }

    /// New generation: what became of a process, for the 410 a late step gets.
    private enum Tombstone { case completed, cancelled }

    let generation: FakeProvisioningServer.Generation
    /// Each user's logins, in the order they were made.
    private var loginsByUser: [String: [FakeLogin]] = [:]
    private var processes: [String: LoginProcess] = [:]
    /// New generation: what became of a process, and whose it was.
    private var tombstones: [String: (userID: String, tombstone: Tombstone)] = [:]
    /// QR events that came when no process showed a code, for the next one started (by the
    /// event's user, or by anyone when it names none).
    private var unclaimed: [(event: QREvent, userID: String?)] = []
    private var waiters: [UInt64: WaiterKind] = [:]
    /// Wakeups of the input being handled, handed to the server when it returns.
    private var wakeups: [Wakeup] = []

    init(generation: FakeProvisioningServer.Generation) { self.generation = generation }

    /// Long-polls parked since the start, and those still parked: what tests wait for.
    private(set) var longPollsParked = 0
    var longPollsPending: Int {
        waiters.values.count(where: { if case .poll = $0 { true } else { false } })
    }

    // MARK: Read-only endpoints and control

    func logins(of userID: String) -> [FakeLogin] {
        loginsByUser[userID] ?? []
    }

    /// `homeServer` is the bridge's own server, which names its bot; the logins are the caller's.
    func whoami(userID: String, homeServer: String) -> Reply {
        Reply(
            json: .object([
                ("network", Canned.network), ("login_flows", Canned.flows), ("homeserver", .string(homeServer)),
                ("bridge_bot", .string("@dummybot:\(homeServer)")), ("command_prefix", .string("!dummy")),
                ("logins", .array(logins(of: userID).map(\.json))),
            ]))
    }

    mutating func logout(loginID: String, userID: String) -> Reply {
        if loginID == "all" {
            loginsByUser[userID] = nil
        } else {
            guard logins(of: userID).contains(where: { $0.id == loginID }) else { return .loginNotFound }
            loginsByUser[userID]?.removeAll { $0.id == loginID }
        }
        return Reply(200, "{}")
    }

    mutating func setState(
        loginID: String, userID: String, stateEvent: String, userAction: String?, message: String?, error: String?
    ) {
        var logins = self.logins(of: userID)
        var login = logins.first { $0.id == loginID } ?? FakeLogin(id: loginID, name: loginID)
        login.stateEvent = stateEvent
        login.timestamp = FakeLogin.unixNow()
        login.userAction = userAction
        login.message = message
        login.error = error
        if let index = logins.firstIndex(where: { $0.id == loginID }) {
            logins[index] = login
        } else {
            logins.append(login)
        }
        loginsByUser[userID] = logins
    }

    // MARK: Login processes

    mutating func start(flowID: String, override: String?, userID: String) -> Reply {
        if let override, !override.isEmpty, !logins(of: userID).contains(where: { $0.id == override }) {
            return .loginNotFound
        }
        let step: Step
        switch flowID {
        case "password": step = Canned.passwordStep
        case "cookies": step = Canned.cookiesStep
        case "localstorage": step = Canned.localStorageStep
        case "displayandwait": step = Canned.displayAndWaitStep(code: "S25W-QBKF")
        case "qr": step = Canned.qrStep(1)
        default:
            return .internalError(
                "Internal error starting login", detail: "unknown flow ID \"\(flowID)\"", generation: generation)
        }
        let id = Random.id()
        var process = LoginProcess(
            id: id, userID: userID, flow: flowID, override: override.flatMap { $0.isEmpty ? nil : $0 },
            next: withTxn(step))
        if step.type == "display_and_wait" {
            let claimed = unclaimed.filter { $0.userID == nil || $0.userID == userID }
            process.pending = claimed.map(\.event)
            unclaimed.removeAll { $0.userID == nil || $0.userID == userID }
        }
        processes[id] = process
        return Reply(json: process.next.json(processID: id, generation: generation))
    }

    mutating func cancel(processID: String, userID: String) -> (Reply, [Wakeup]) {
        guard var process = processes[processID], process.userID == userID else { return (.loginNotFound, []) }
        processes.removeValue(forKey: processID)
        tombstones[processID] = (userID, .cancelled)
        wakeWaiters(of: &process, with: .cancelled)
        return (Reply(200, "{}"), drain())
    }

    /// `POST /v3/login/step/...` from the request parked as `waiter`: it is answered among the
    /// wakeups, or stays parked as a long-poll of its process.
    mutating func submit(_ submission: StepSubmission, waiter: UInt64) -> [Wakeup] {
        switch generation {
        case .old: submitOld(submission, waiter: waiter)
        case .new: submitNew(submission, waiter: waiter)
        }
        return drain()
    }

    /// A request that is never answered (the `hang` fault).
    mutating func hang(waiter: UInt64) {
        waiters[waiter] = .hang
    }

    /// mautrix-go v0.26 `PostLoginStep`: IDs and type first, then the body, then the connector,
    /// all inside the request.
    private mutating func submitOld(_ submission: StepSubmission, waiter: UInt64) {
        guard var process = process(submission.processID, of: submission.userID) else {
            return answer(waiter, .loginNotFound)
        }
        if process.next.stepID != submission.stepID { return answer(waiter, .badState("Step ID does not match")) }
        if process.next.type != submission.stepType { return answer(waiter, .badState("Step type does not match")) }
        if process.next.type == "display_and_wait" {
            if !process.pending.isEmpty {
                let event = process.pending.removeFirst()
                return answer(waiter, apply(event, to: &process))
            }
            processes[process.id] = process
            park(waiter, polling: process.id)
            return
        }
        guard let input = Query.decodeInput(submission.body) else { return answer(waiter, .notJSON) }
        answer(waiter, runInput(input, on: &process))
    }

    /// mautrix-go v0.30 `PostLoginStep` + `doLoginStep`.
    private mutating func submitNew(_ submission: StepSubmission, waiter: UInt64) {
        guard var process = process(submission.processID, of: submission.userID) else {
            let ended = tombstones[submission.processID].flatMap { $0.userID == submission.userID ? $0.tombstone : nil }
            switch ended {
            case .completed: return answer(waiter, .alreadyFinished)
            case .cancelled: return answer(waiter, .cancelled)
            case nil: return answer(waiter, .loginNotFound)
            }
        }
        var input: [String: String] = [:]
        switch submission.stepType {
        case "user_input", "cookies":
            guard let decoded = Query.decodeInput(submission.body) else { return answer(waiter, .notJSON) }
            input = decoded
        case "display_and_wait":
            break
        case "complete":
            return answer(waiter, .alreadyFinished)
        default:
            return answer(waiter, Reply(error: "M_UNRECOGNIZED", "Invalid step type \"\(submission.stepType)\"", status: 404))
        }
        if let previous = process.previous,
            (process.started && previous.stepID == submission.stepID)
                || (!submission.txnID.isEmpty && previous.txnID == submission.txnID)
        {
            // A retry of the previous step: answer with the current one.
            return answer(waiter, Reply(json: process.next.json(processID: process.id, generation: generation)))
        }
        if process.next.stepID != submission.stepID { return answer(waiter, .badState("Step ID does not match")) }
        if !submission.txnID.isEmpty, process.next.txnID != submission.txnID {
            return answer(waiter, .badState("Transaction ID does not match"))
        }
        if process.next.type != submission.stepType { return answer(waiter, .badState("Step type does not match")) }
        if process.next.type == "display_and_wait" {
            if !process.started, !process.pending.isEmpty {
                let event = process.pending.removeFirst()
                return answer(waiter, apply(event, to: &process))
            }
            process.started = true  // the wait now runs until an event, whoever listens
            processes[process.id] = process
            park(waiter, polling: process.id)
            return
        }
        answer(waiter, runInput(input, on: &process))
    }

    /// The user's running process; another user's is as good as missing.
    private func process(_ id: String, of userID: String) -> LoginProcess? {
        processes[id].flatMap { $0.userID == userID ? $0 : nil }
    }

    /// dummybridge's `SubmitUserInput`/`SubmitCookies`, plus the fake's 2FA step.
    private mutating func runInput(_ input: [String: String], on process: inout LoginProcess) -> Reply {
        if process.next.stepID == Canned.twoFactorStep.stepID {
            guard input["code"] == "123456" else { return fail(&process, "incorrect 2FA code") }
            return complete(&process, loginID: process.username, name: process.password)
        }
        let username = input["username"] ?? (process.flow == "password" ? "" : "cookie-user")
        let password = input["password"] ?? ""
        if password == "incorrectpassword" { return fail(&process, "incorrect password") }
        if process.flow == "password", username.contains("2fa") {
            process.username = username
            process.password = password
            return advance(&process, to: Canned.twoFactorStep)
        }
        return complete(&process, loginID: username, name: password)
    }

    private mutating func apply(_ event: QREvent, to process: inout LoginProcess) -> Reply {
        switch event {
        case .refresh:
            process.displayCount += 1
            let step =
                process.flow == "qr"
                ? Canned.qrStep(process.displayCount)
                : Canned.displayAndWaitStep(code: Random.code())
            return advance(&process, to: step)
        case .scan:
            let user = process.flow == "qr" ? "qr-user" : "daw-user"
            return complete(&process, loginID: user, name: user)
        }
    }

    private mutating func advance(_ process: inout LoginProcess, to step: Step) -> Reply {
        process.previous = process.next
        process.next = withTxn(step)
        process.started = false
        processes[process.id] = process
        let reply = Reply(json: process.next.json(processID: process.id, generation: generation))
        wakeWaiters(of: &process, with: reply)
        return reply
    }

    private mutating func complete(_ process: inout LoginProcess, loginID: String, name: String) -> Reply {
        var logins = self.logins(of: process.userID)
        if let index = logins.firstIndex(where: { $0.id == loginID }) {
            let email = logins[index].email
            logins[index] = FakeLogin(id: loginID, name: name)
            logins[index].email = email
        } else {
            logins.append(FakeLogin(id: loginID, name: name))
        }
        if let override = process.override, override != loginID {
            logins.removeAll { $0.id == override }
        }
        loginsByUser[process.userID] = logins
        process.previous = process.next
        process.next = withTxn(Canned.completeStep(loginID))
        processes.removeValue(forKey: process.id)
        if generation == .new { tombstones[process.id] = (process.userID, .completed) }
        let reply = Reply(json: process.next.json(processID: process.id, generation: generation))
        wakeWaiters(of: &process, with: reply)
        return reply
    }

    /// A connector error: the process is gone (404 afterwards in both generations).
    private mutating func fail(_ process: inout LoginProcess, _ detail: String) -> Reply {
        processes.removeValue(forKey: process.id)
        let message =
            process.next.type == "display_and_wait"
            ? "Internal error waiting for login" : "Internal error submitting input"
        let reply = Reply.internalError(
            generation == .old ? message : "Internal error in login step", detail: detail, generation: generation)
        wakeWaiters(of: &process, with: reply)
        return reply
    }

    private func withTxn(_ step: Step) -> Step {
        var step = step
        step.txnID = "bls_" + Random.id()
        return step
    }

    // MARK: QR events

    /// `userID` limits the event to that user's processes; `nil` reaches everyone's.
    mutating func broadcast(_ event: QREvent, to userID: String?) -> [Wakeup] {
        let ids = processes.values.filter { process in
            process.next.type == "display_and_wait" && (userID == nil || process.userID == userID)
        }.map(\.id)
        if ids.isEmpty {
            unclaimed.append((event, userID))
            return []
        }
        for id in ids {
            guard var process = processes[id] else { continue }
            let running =
                generation == .new
                ? process.started
                : waiters.values.contains { kind in
                    if case .poll(let processID) = kind { processID == id } else { false }
                }
            if running {
                _ = apply(event, to: &process)
            } else {
                process.pending.append(event)
                processes[id] = process
            }
        }
        return drain()
    }

    // MARK: Waiters

    /// The client of `waiter` went away (or its task was cancelled); nothing when it is not
    /// parked.
    mutating func abandon(_ waiter: UInt64) -> [Wakeup] {
        guard let kind = waiters.removeValue(forKey: waiter) else { return [] }
        wakeups.append(Wakeup(waiter: waiter, outcome: .abandoned))
        if case .poll(let processID) = kind, generation == .old, var process = processes[processID] {
            // Old generation: `Wait` ran with the request's context, so the login process fails.
            _ = fail(&process, "context canceled")
        }
        return drain()
    }

    mutating func abandonAll() -> [Wakeup] {
        Array(waiters.keys).flatMap { abandon($0) }
    }

    private mutating func park(_ waiter: UInt64, polling processID: String) {
        waiters[waiter] = .poll(processID: processID)
        longPollsParked += 1
    }

    private mutating func answer(_ waiter: UInt64, _ reply: Reply) {
        wakeups.append(Wakeup(waiter: waiter, outcome: .reply(reply)))
    }

    private mutating func wakeWaiters(of process: inout LoginProcess, with reply: Reply) {
        for (id, kind) in waiters {
            guard case .poll(let processID) = kind, processID == process.id else { continue }
            waiters.removeValue(forKey: id)
            wakeups.append(Wakeup(waiter: id, outcome: .reply(reply)))
        }
    }

    private mutating func drain() -> [Wakeup] {
        defer { wakeups.removeAll() }
        return wakeups
    }
}
