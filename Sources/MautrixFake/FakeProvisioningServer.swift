import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
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

    public let generation: Generation
    public let secret: String
    public let userID: String

    private let state: Mutex<FakeState>
    private let life = Mutex<Lifecycle>(Lifecycle())

    public init(
        generation: Generation, secret: String = "fake-provisioning-secret-0123456789",
        userID: String = "@alice:example.test"
    ) {
        self.generation = generation
        self.secret = secret
        self.userID = userID
        self.state = Mutex(FakeState(generation: generation))
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
        return try await serially { try await self.listen(wanted: true) }
    }

    /// Stops listening and ends every pending request. Logins and login processes are kept, so
    /// `start()` brings the same bridge back.
    public func stop() async {
        _ = try? await serially {
            await self.unlisten(wanted: false)
            return ""
        }
    }

    public func setFault(_ fault: Fault) {
        let previous = state.withLock { s in
            let previous = s.fault
            s.fault = fault
            return previous
        }
        if fault == .refuseConnections, previous != .refuseConnections {
            background { await self.unlisten(wanted: nil) }
        } else if previous == .refuseConnections, fault != .refuseConnections {
            background {
                if self.life.withLock({ $0.wanted }) { _ = try? await self.listen(wanted: nil) }
            }
        }
    }

    // MARK: Inspection

    /// Requests received so far, as "METHOD /_matrix/provision/...?query" (path and query as sent).
    public var requests: [String] { state.withLock { $0.requests } }

    /// Bodies of the `POST .../v3/login/step/...` requests received so far, in order ("" when empty).
    public var stepBodies: [String] { state.withLock { $0.stepBodies } }

    /// IDs of the current logins (what `GET /v3/logins` answers).
    public var loginIDs: [String] { state.withLock { $0.logins.map(\.id) } }

    // MARK: Control

    /// Every login process now showing a display-and-wait step (`qr` or `displayandwait`) gets a
    /// new code: a pending long-poll returns the same step ID with new data (`qr-payload-<n+1>`).
    /// Without a long-poll in progress the refresh is queued for the process's next poll; with no
    /// such process at all it is kept for the next one started.
    public func refreshQR() { state.withLock { $0.broadcast(.refresh) } }

    /// Every login process now showing a display-and-wait step completes (`qr-user`/`daw-user`),
    /// queued like `refreshQR()`.
    public func scanQR() { state.withLock { $0.broadcast(.scan) } }

    /// Sets the bridge state `/v3/whoami` reports for a login, creating the login if it is absent.
    /// `error` (an extra, optional) also sets the TTL to 3600 as bridgev2 does.
    public func setState(
        loginID: String, stateEvent: String, userAction: String? = nil, message: String? = nil,
        error: String? = nil
    ) {
        state.withLock { s in
            if !s.logins.contains(where: { $0.id == loginID }) {
                s.logins.append(FakeLogin(id: loginID, name: loginID))
            }
            let index = s.logins.firstIndex { $0.id == loginID }!
            s.logins[index].stateEvent = stateEvent
            s.logins[index].timestamp = Util.unixNow()
            s.logins[index].userAction = userAction
            s.logins[index].message = message
            s.logins[index].error = error
        }
    }

    // MARK: - Listening

    private struct Lifecycle {
        var chain: Task<Void, Never>?
        var running: (group: ServiceGroup, task: Task<Void, Never>)?
        var port: Int?
        var wanted = false
    }

    /// Runs lifecycle operations one after another, in the order they were asked for.
    private func serially(_ body: @escaping @Sendable () async throws -> String) async throws -> String {
        let task: Task<String, any Error> = life.withLock { life in
            let previous = life.chain
            let task = Task {
                await previous?.value
                return try await body()
            }
            life.chain = Task { _ = try? await task.value }
            return task
        }
        return try await task.value
    }

    private func background(_ body: @escaping @Sendable () async -> Void) {
        life.withLock { life in
            let previous = life.chain
            life.chain = Task {
                await previous?.value
                await body()
            }
        }
    }

    /// `wanted`: true from `start()`, nil when a fault ends (keeps the user's wish).
    private func listen(wanted: Bool?) async throws -> String {
        let (running, port) = life.withLock { life in
            if let wanted { life.wanted = wanted }
            return (life.running != nil, life.port)
        }
        if running, let port { return "http://127.0.0.1:\(port)" }
        let bound: Int
        do {
            bound = try await launch(port: port ?? 0)
        } catch where port != nil {
            bound = try await launch(port: 0)
        }
        return "http://127.0.0.1:\(bound)"
    }

    private func launch(port: Int) async throws -> Int {
        let ready = Ready()
        let app = Application(
            responder: FakeResponder(server: self),
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatcher()])),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in ready.complete(.success(channel.localAddress?.port ?? 0)) }
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
        let task = Task {
            do {
                try await group.run()
                ready.complete(.failure(FakeServerError.stoppedBeforeListening))
            } catch {
                ready.complete(.failure(error))
            }
        }
        do {
            let bound = try await ready.wait()
            life.withLock { life in
                life.running = (group, task)
                life.port = bound
            }
            return bound
        } catch {
            task.cancel()
            await task.value
            throw error
        }
    }

    /// `wanted`: false from `stop()`, nil for a fault (keeps the user's wish).
    private func unlisten(wanted: Bool?) async {
        let running = life.withLock { life in
            if let wanted { life.wanted = wanted }
            let running = life.running
            life.running = nil
            return running
        }
        guard let (group, task) = running else { return }
        // Pending long-polls and hangs end (their connections close); new ones end at once until
        // the server is down. A graceful shutdown closes the listener and the idle connections and
        // lets requests being answered finish; a request still running after 2 s is cancelled.
        state.withLock { s in
            s.stopping = true
            s.abandonAll()
        }
        await group.triggerGracefulShutdown()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(2))
            task.cancel()
        }
        await task.value
        watchdog.cancel()
        state.withLock { $0.stopping = false }
    }

    // MARK: - Requests

    fileprivate func respond(to request: Request, context: FakeContext) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.path
        let query = request.uri.query
        let line = "\(method) \(path)" + (query.map { "?\($0)" } ?? "")
        var buffer = try await request.body.collect(upTo: 16 << 20)
        let body = buffer.readString(length: buffer.readableBytes) ?? ""
        let isStep = method == "POST" && path.hasPrefix("/_matrix/provision/v3/login/step/")
        let fault = state.withLock { s in
            s.requests.append(line)
            if isStep { s.stepBodies.append(body) }
            return s.fault
        }

        switch fault {
        case .none:
            break
        case .refuseConnections:
            try? await context.channel.close()
            throw CancellationError()
        case .hang:
            _ = await suspend(context: context) { s, id, continuation in
                s.waiters[id] = Waiter(kind: .hang, continuation: continuation)
            }
            try? await context.channel.close()
            throw CancellationError()
        case .garbage:
            return makeResponse(Reply(200, "<html><body>this is not JSON</body></html>\n"))
        case .slow(let duration):
            try await Task.sleep(for: duration)
        }

        if method == "OPTIONS" { return makeResponse(Reply(200, "")) }
        let prefix = "/_matrix/provision/"
        guard path.hasPrefix(prefix) else { return makeResponse(.unrecognized) }
        if let denied = authenticate(request) { return makeResponse(denied) }

        let segments = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).removingPercentEncoding ?? String($0) }
        let parameters = Util.parseQuery(query)
        guard let route = Route(segments: segments, generation: generation) else {
            return makeResponse(.unrecognized)
        }
        guard route.method == method else { return makeResponse(.invalidMethod) }

        let reply: Reply
        switch route {
        case .whoami:
            reply = state.withLock { $0.whoami(userID: userID) }
        case .capabilities:
            reply = Reply(json: Canned.capabilities)
        case .flows:
            reply = Reply(json: .object([("flows", Canned.flows)]))
        case .logins:
            reply = state.withLock { s in Reply(json: .object([("login_ids", .array(s.logins.map { .string($0.id) }))])) }
        case .start(let flowID):
            reply = state.withLock { $0.start(flowID: flowID, override: parameters["login_id"]) }
        case .cancel(let processID):
            reply = state.withLock { $0.cancel(processID: processID) }
        case .logout(let loginID):
            reply = state.withLock { $0.logout(loginID: loginID) }
        case .step(let processID, let stepID, let stepType):
            let submission = StepSubmission(
                processID: processID, stepID: stepID, stepType: stepType, txnID: parameters["txn_id"] ?? "",
                body: body)
            let outcome = await suspend(context: context) { s, id, continuation in
                s.submit(submission, waiterID: id, continuation: continuation)
            }
            switch outcome {
            case .reply(let answer):
                reply = answer
            case .abandoned:
                // The client is gone (or the server is stopping): nobody to answer.
                try? await context.channel.close()
                throw CancellationError()
            }
        }
        return makeResponse(reply)
    }

    private func authenticate(_ request: Request) -> Reply? {
        var token = request.headers[.authorization] ?? ""
        if token.hasPrefix("Bearer ") { token.removeFirst("Bearer ".count) }
        if token.isEmpty { return Reply(error: "M_MISSING_TOKEN", "Missing auth token", status: 401) }
        if token != secret { return Reply(error: "M_UNKNOWN_TOKEN", "Invalid auth token", status: 401) }
        if Util.parseQuery(request.uri.query)["user_id"] != userID {
            return Reply(error: "M_FORBIDDEN", "User does not have login permissions", status: 403)
        }
        return nil
    }

    /// Waits for a continuation registered (or resumed at once) by `register` under the state
    /// lock. The wait ends early, as `.abandoned`, when the client goes away or the task is
    /// cancelled.
    private func suspend(
        context: FakeContext,
        register: (inout FakeState, UInt64, CheckedContinuation<Outcome, Never>) -> Void
    ) async -> Outcome {
        let id = state.withLock { $0.allocateWaiter() }
        let watcher = try? await context.channel.pipeline.handler(type: ConnectionWatcher.self).get()
        let token = watcher?.onClose { [weak self] in self?.state.withLock { $0.abandon(id) } }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                state.withLock { s in
                    let abandoned = s.allocated.removeValue(forKey: id) == .abandoned
                    register(&s, id, continuation)
                    // Gone before it could wait: a wait it registered ends now (an answer given
                    // at once stands).
                    if abandoned || s.stopping { s.abandon(id) }
                }
            }
        } onCancel: {
            self.state.withLock { $0.abandon(id) }
        }
        if let token { watcher?.removeCallback(token) }
        return outcome
    }

    private func makeResponse(_ reply: Reply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.accessControlAllowOrigin] = "*"
        headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
        headers[.accessControlAllowHeaders] = "X-Requested-With, Content-Type, Authorization"
        headers[Canned.requestIDHeader] = Util.randomID()
        return Response(
            status: .init(code: reply.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }
}

extension FakeProvisioningServer {
    // MARK: - Routing

    fileprivate enum Route {
        case whoami, capabilities, flows, logins
        case start(String)
        case step(String, String, String)
        case cancel(String)
        case logout(String)

        init?(segments: [String], generation: FakeProvisioningServer.Generation) {
            guard segments.allSatisfy({ !$0.isEmpty }), segments.first == "v3" else { return nil }
            switch Array(segments.dropFirst()) {
            case ["whoami"]: self = .whoami
            case ["capabilities"]: self = .capabilities
            case ["login", "flows"]: self = .flows
            case ["logins"]: self = .logins
            case let s where s.count == 3 && s[0] == "login" && s[1] == "start": self = .start(s[2])
            case let s where s.count == 5 && s[0] == "login" && s[1] == "step": self = .step(s[2], s[3], s[4])
            case let s where s.count == 3 && s[0] == "login" && s[1] == "cancel" && generation == .new:
                self = .cancel(s[2])
            case let s where s.count == 2 && s[0] == "logout": self = .logout(s[1])
            default: return nil
            }
        }

        var method: String {
            switch self {
            case .whoami, .capabilities, .flows, .logins: "GET"
            case .start, .step, .cancel, .logout: "POST"
            }
        }
    }

    // MARK: - State

    fileprivate struct StepSubmission: Sendable {
        let processID: String
        let stepID: String
        let stepType: String
        let txnID: String
        let body: String
    }

    fileprivate enum Outcome: Sendable {
        case reply(Reply)
        /// The client went away (or the server stopped) before there was an answer.
        case abandoned
    }

    fileprivate struct Waiter {
        enum Kind { case hang, poll(processID: String) }
        let kind: Kind
        let continuation: CheckedContinuation<Outcome, Never>
    }

    fileprivate enum QREvent { case refresh, scan }

    fileprivate struct FakeLogin {
        var id: String
        var name: String
        var profileName: String
        var email = "dummy-email-\(Util.randomString(6, alphabet: Canned.alphanumeric))@beepbeep"
        var stateEvent = "CONNECTED"
        var timestamp = Util.unixNow()
        var userAction: String?
        var message: String?
        var error: String?

        init(id: String, name: String) {
            self.id = id
            self.name = name
            self.profileName = name
        }

        var json: JSON {
            var state: [(String, JSON)] = [
                ("state_event", .string(stateEvent)), ("timestamp", .int(timestamp)),
                ("ttl", .int(error == nil ? 21600 : 3600)), ("source", .string("bridge")),
            ]
            if let error { state.append(("error", .string(error))) }
            if let message { state.append(("message", .string(message))) }
            if let userAction { state.append(("user_action", .string(userAction))) }
            var profile: [(String, JSON)] = [("email", .string(email))]
            if !profileName.isEmpty { profile.append(("name", .string(profileName))) }
            return .object([
                ("state_event", .string(stateEvent)), ("state_ts", .int(timestamp)), ("state", .object(state)),
                ("id", .string(id)), ("name", .string(name)), ("profile", .object(profile)),
            ])
        }
    }

    fileprivate struct Step {
        var type: String
        var stepID: String
        var txnID = ""
        var instructions: String
        var parameters: JSON

        func json(processID: String, generation: FakeProvisioningServer.Generation) -> JSON {
            var fields: [(String, JSON)] = [
                ("login_id", .string(processID)), ("type", .string(type)), ("step_id", .string(stepID)),
            ]
            if generation == .new { fields.append(("txn_id", .string(txnID))) }
            fields.append(("instructions", .string(instructions)))
            var parameters = parameters
            if generation == .new, type == "user_input", case .object(var members) = parameters {
                members.append(("attachments", .null))  // bridgev2 >= v0.26.4 always sends the key
                parameters = .object(members)
            }
            fields.append((type, parameters))
            return .object(fields)
        }
    }

    fileprivate struct LoginProcess {
        let id: String
        let flow: String
        let override: String?
        var next: Step
        var previous: Step?
        /// New generation: a display-and-wait step is running in the background.
        var started = false
        var pending: [QREvent] = []
        var displayCount = 1
        /// Username and password kept from the password step while 2FA is asked.
        var username = ""
        var password = ""
    }

    fileprivate enum Tombstone { case completed, cancelled }

    fileprivate enum Allocation { case waiting, abandoned }

    fileprivate struct FakeState {
        let generation: FakeProvisioningServer.Generation
        var fault: FakeProvisioningServer.Fault = .none
        var requests: [String] = []
        var stepBodies: [String] = []
        var logins: [FakeLogin] = []
        var processes: [String: LoginProcess] = [:]
        var tombstones: [String: Tombstone] = [:]
        var unclaimed: [QREvent] = []
        var waiters: [UInt64: Waiter] = [:]
        var allocated: [UInt64: Allocation] = [:]
        var nextWaiter: UInt64 = 0
        /// The server is shutting down: waits end at once.
        var stopping = false

        init(generation: FakeProvisioningServer.Generation) { self.generation = generation }

        // MARK: Read-only endpoints

        func whoami(userID: String) -> Reply {
            let server = userID.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            return Reply(
                json: .object([
                    ("network", Canned.network), ("login_flows", Canned.flows), ("homeserver", .string(server)),
                    ("bridge_bot", .string("@dummybot:\(server)")), ("command_prefix", .string("!dummy")),
                    ("logins", .array(logins.map(\.json))),
                ]))
        }

        mutating func logout(loginID: String) -> Reply {
            if loginID == "all" {
                logins.removeAll()
            } else {
                guard logins.contains(where: { $0.id == loginID }) else { return .loginNotFound }
                logins.removeAll { $0.id == loginID }
            }
            return Reply(200, "{}")
        }

        // MARK: Login processes

        mutating func start(flowID: String, override: String?) -> Reply {
            if let override, !override.isEmpty, !logins.contains(where: { $0.id == override }) {
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
            let id = Util.randomID()
            var process = LoginProcess(
                id: id, flow: flowID, override: override.flatMap { $0.isEmpty ? nil : $0 }, next: withTxn(step))
            if step.type == "display_and_wait" {
                process.pending = unclaimed
                unclaimed.removeAll()
            }
            processes[id] = process
            return Reply(json: process.next.json(processID: id, generation: generation))
        }

        mutating func cancel(processID: String) -> Reply {
            guard var process = processes.removeValue(forKey: processID) else { return .loginNotFound }
            tombstones[processID] = .cancelled
            resumeWaiters(of: &process, with: .cancelled)
            return Reply(200, "{}")
        }

        /// Handles `POST /v3/login/step/...`: resumes `continuation` at once, or keeps it as a
        /// long-poll waiter of the process.
        mutating func submit(
            _ submission: StepSubmission, waiterID: UInt64, continuation: CheckedContinuation<Outcome, Never>
        ) {
            switch generation {
            case .old: submitOld(submission, waiterID: waiterID, continuation: continuation)
            case .new: submitNew(submission, waiterID: waiterID, continuation: continuation)
            }
        }

        /// mautrix-go v0.26 `PostLoginStep`: IDs and type first, then the body, then the connector,
        /// all inside the request.
        private mutating func submitOld(
            _ submission: StepSubmission, waiterID: UInt64, continuation: CheckedContinuation<Outcome, Never>
        ) {
            guard var process = processes[submission.processID] else {
                return continuation.resume(returning: .reply(.loginNotFound))
            }
            if process.next.stepID != submission.stepID {
                return continuation.resume(returning: .reply(.badState("Step ID does not match")))
            }
            if process.next.type != submission.stepType {
                return continuation.resume(returning: .reply(.badState("Step type does not match")))
            }
            if process.next.type == "display_and_wait" {
                if !process.pending.isEmpty {
                    let event = process.pending.removeFirst()
                    return continuation.resume(returning: .reply(apply(event, to: &process)))
                }
                processes[process.id] = process
                waiters[waiterID] = Waiter(kind: .poll(processID: process.id), continuation: continuation)
                return
            }
            guard let input = Util.decodeInput(submission.body) else {
                return continuation.resume(returning: .reply(.notJSON))
            }
            continuation.resume(returning: .reply(runInput(input, on: &process)))
        }

        /// mautrix-go v0.30 `PostLoginStep` + `doLoginStep`.
        private mutating func submitNew(
            _ submission: StepSubmission, waiterID: UInt64, continuation: CheckedContinuation<Outcome, Never>
        ) {
            guard var process = processes[submission.processID] else {
                switch tombstones[submission.processID] {
                case .completed: return continuation.resume(returning: .reply(.alreadyFinished))
                case .cancelled: return continuation.resume(returning: .reply(.cancelled))
                case nil: return continuation.resume(returning: .reply(.loginNotFound))
                }
            }
            var input: [String: String] = [:]
            switch submission.stepType {
            case "user_input", "cookies":
                guard let decoded = Util.decodeInput(submission.body) else {
                    return continuation.resume(returning: .reply(.notJSON))
                }
                input = decoded
            case "display_and_wait":
                break
            case "complete":
                return continuation.resume(returning: .reply(.alreadyFinished))
            default:
                return continuation.resume(
                    returning: .reply(
                        Reply(error: "M_UNRECOGNIZED", "Invalid step type \"\(submission.stepType)\"", status: 404)))
            }
            if let previous = process.previous,
                (process.started && previous.stepID == submission.stepID)
                    || (!submission.txnID.isEmpty && previous.txnID == submission.txnID)
            {
                // A retry of the previous step: answer with the current one.
                return continuation.resume(
                    returning: .reply(Reply(json: process.next.json(processID: process.id, generation: generation))))
            }
            if process.next.stepID != submission.stepID {
                return continuation.resume(returning: .reply(.badState("Step ID does not match")))
            }
            if !submission.txnID.isEmpty, process.next.txnID != submission.txnID {
                return continuation.resume(returning: .reply(.badState("Transaction ID does not match")))
            }
            if process.next.type != submission.stepType {
                return continuation.resume(returning: .reply(.badState("Step type does not match")))
            }
            if process.next.type == "display_and_wait" {
                if !process.started, !process.pending.isEmpty {
                    let event = process.pending.removeFirst()
                    return continuation.resume(returning: .reply(apply(event, to: &process)))
                }
                process.started = true  // the wait now runs until an event, whoever listens
                processes[process.id] = process
                waiters[waiterID] = Waiter(kind: .poll(processID: process.id), continuation: continuation)
                return
            }
            continuation.resume(returning: .reply(runInput(input, on: &process)))
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
                    : Canned.displayAndWaitStep(code: Util.randomCode())
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
            resumeWaiters(of: &process, with: reply)
            return reply
        }

        private mutating func complete(_ process: inout LoginProcess, loginID: String, name: String) -> Reply {
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
            process.previous = process.next
            process.next = withTxn(Canned.completeStep(loginID))
            processes.removeValue(forKey: process.id)
            if generation == .new { tombstones[process.id] = .completed }
            let reply = Reply(json: process.next.json(processID: process.id, generation: generation))
            resumeWaiters(of: &process, with: reply)
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
            resumeWaiters(of: &process, with: reply)
            return reply
        }

        private func withTxn(_ step: Step) -> Step {
            var step = step
            step.txnID = "bls_" + Util.randomID()
            return step
        }

        // MARK: QR events

        mutating func broadcast(_ event: QREvent) {
            let ids = processes.values.filter { $0.next.type == "display_and_wait" }.map(\.id)
            if ids.isEmpty {
                unclaimed.append(event)
                return
            }
            for id in ids {
                guard var process = processes[id] else { continue }
                let running =
                    generation == .new
                    ? process.started
                    : waiters.values.contains { waiter in
                        if case .poll(let processID) = waiter.kind { processID == id } else { false }
                    }
                if running {
                    _ = apply(event, to: &process)
                } else {
                    process.pending.append(event)
                    processes[id] = process
                }
            }
        }

        // MARK: Waiters

        mutating func allocateWaiter() -> UInt64 {
            nextWaiter += 1
            allocated[nextWaiter] = .waiting
            return nextWaiter
        }

        private mutating func resumeWaiters(of process: inout LoginProcess, with reply: Reply) {
            for (id, waiter) in waiters {
                guard case .poll(let processID) = waiter.kind, processID == process.id else { continue }
                waiters.removeValue(forKey: id)
                waiter.continuation.resume(returning: .reply(reply))
            }
        }

        /// The client of waiter `id` went away (or its task was cancelled).
        mutating func abandon(_ id: UInt64) {
            guard let waiter = waiters.removeValue(forKey: id) else {
                if allocated[id] != nil { allocated[id] = .abandoned }
                return
            }
            waiter.continuation.resume(returning: .abandoned)
            guard case .poll(let processID) = waiter.kind, generation == .old, var process = processes[processID] else {
                return
            }
            // Old generation: `Wait` ran with the request's context, so the login process fails.
            _ = fail(&process, "context canceled")
        }

        mutating func abandonAll() {
            for id in Array(waiters.keys) { abandon(id) }
            for id in Array(allocated.keys) { allocated[id] = .abandoned }
        }
    }

    // MARK: - Replies

    fileprivate struct Reply: Sendable {
        var status: Int
        var body: String

        init(_ status: Int, _ body: String) {
            self.status = status
            self.body = body
        }

        /// As Go's `json.NewEncoder(w).Encode`: compact, then a newline.
        init(json: JSON, status: Int = 200) {
            self.init(status, json.encoded + "\n")
        }

        init(error code: String, _ message: String, status: Int, extra: [(String, JSON)] = []) {
            self.init(json: .object([("errcode", .string(code)), ("error", .string(message))] + extra), status: status)
        }

        static func internalError(_ message: String, detail: String, generation: Generation) -> Reply {
            let extra: [(String, JSON)] = generation == .new ? [("fi.mau.internal_error", .string(detail))] : []
            return Reply(error: "M_UNKNOWN", message, status: 500, extra: extra)
        }

        static func badState(_ message: String) -> Reply { Reply(error: "M_BAD_STATE", message, status: 500) }

        static let loginNotFound = Reply(error: "M_NOT_FOUND", "Login not found", status: 404)
        static let notJSON = Reply(error: "M_NOT_JSON", "Failed to decode request body", status: 400)
        static let cancelled = Reply(error: "FI.MAU.BRIDGE.LOGIN_CANCELLED", "Login process was cancelled", status: 410)
        static let alreadyFinished = Reply(
            error: "FI.MAU.BRIDGE.LOGIN_ALREADY_FINISHED", "Login process was already finished", status: 410)
        // exhttp.HandleErrors writes these pre-marshalled, without a newline.
        static let unrecognized = Reply(404, #"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized endpoint"}"#)
        static let invalidMethod = Reply(405, #"{"errcode":"M_UNRECOGNIZED","error":"Invalid method for endpoint"}"#)
    }

    // MARK: - Canned data (beeper/dummybridge)

    fileprivate enum Canned {
        static let alphanumeric = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        static let requestIDHeader = HTTPFields.Element.Name("Request-Id")!

        static let network = JSON.object([
            ("displayname", .string("Dummy")), ("network_url", .string("https://beeper.com")),
            ("network_icon", .string("mxc://beeper.com/f6ec13a4953757f04c1714b43d1c8ec451e0bab1")),
            ("network_id", .string("dummy")), ("beeper_bridge_type", .string("beeper.com/dummy")),
        ])

        static let flows = JSON.array(
            [
                ("Password", "Log in with a password", "password"),
                ("Cookies", "Log in with extracted cookies", "cookies"),
                ("Local storage", "Log in with extracted local storage", "localstorage"),
                ("Display and wait", "Log in through a remote server", "displayandwait"),
                ("QR", "Scan a QR code", "qr"),
            ].map { .object([("name", .string($0.0)), ("description", .string($0.1)), ("id", .string($0.2))]) })

        static let capabilities = JSON.object([
            (
                "resolve_identifier",
                .object(
                    ["create_dm", "lookup_phone", "lookup_email", "lookup_username", "any_phone", "contact_list", "search"]
                        .map { ($0, .bool(false)) })
            ),
            ("group_creation", .null),
        ])

        static func field(_ type: String, _ id: String, _ name: String) -> JSON {
            .object([("type", .string(type)), ("id", .string(id)), ("name", .string(name)), ("description", .string(""))])
        }

        static let passwordStep = Step(
            type: "user_input", stepID: "com.beeper.dummy.password", instructions: "",
            parameters: .object([
                (
                    "fields",
                    .array([
                        field("username", "username", "username, anything goes and it's used as the ID"),
                        field("password", "password", "password, anything goes"),
                    ])
                )
            ]))

        static let twoFactorStep = Step(
            type: "user_input", stepID: "com.beeper.dummy.2fa", instructions: "",
            parameters: .object([("fields", .array([field("2fa_code", "code", "Code")]))]))

        static func cookieStep(_ stepID: String, url: String, source: String, domain: String?) -> Step {
            func cookieField(_ name: String) -> JSON {
                var sourceFields: [(String, JSON)] = [("type", .string(source)), ("name", .string(name))]
                if let domain { sourceFields.append(("cookie_domain", .string(domain))) }
                return .object([
                    ("id", .string(name)), ("required", .bool(true)), ("sources", .array([.object(sourceFields)])),
                ])
            }
            return Step(
                type: "cookies", stepID: stepID, instructions: "",
                parameters: .object([
                    ("url", .string(url)), ("fields", .array([cookieField("username"), cookieField("password")])),
                ]))
        }

        static let cookiesStep = cookieStep(
            "com.beeper.dummy.cookies", url: "https://random.mau.fi/dummy/pages/cookies.html", source: "cookie",
            domain: "random.mau.fi")
        static let localStorageStep = cookieStep(
            "com.beeper.dummy.localstorage", url: "https://random.mau.fi/dummy/pages/localstorage.html",
            source: "local_storage", domain: nil)

        static func displayAndWaitStep(code: String) -> Step {
            Step(
                type: "display_and_wait", stepID: "com.beeper.dummy.displayandwait",
                instructions: "Enter the code on https://random.mau.fi/dummy/pages/daw_submit.html",
                parameters: .object([("type", .string("code")), ("data", .string(code))]))
        }

        static func qrStep(_ number: Int) -> Step {
            Step(
                type: "display_and_wait", stepID: "com.beeper.dummy.qr",
                instructions: "Scan the QR code with the Dummy app on your phone",
                parameters: .object([("type", .string("qr")), ("data", .string("qr-payload-\(number)"))]))
        }

        static func completeStep(_ loginID: String) -> Step {
            Step(
                type: "complete", stepID: "com.beeper.dummy.complete",
                instructions: "Successfully logged in with whatever you provided",
                parameters: .object([("user_login_id", .string(loginID))]))
        }
    }

    // MARK: - JSON with ordered keys, escaped as Go's encoding/json does

    fileprivate indirect enum JSON: Sendable {
        case string(String)
        case int(Int)
        case bool(Bool)
        case null
        case array([JSON])
        case object([(String, JSON)])

        var encoded: String {
            var out = ""
            write(to: &out)
            return out
        }

        func write(to out: inout String) {
            switch self {
            case .string(let value): JSON.writeString(value, to: &out)
            case .int(let value): out += String(value)
            case .bool(let value): out += value ? "true" : "false"
            case .null: out += "null"
            case .array(let values):
                out += "["
                for (index, value) in values.enumerated() {
                    if index > 0 { out += "," }
                    value.write(to: &out)
                }
                out += "]"
            case .object(let members):
                out += "{"
                for (index, member) in members.enumerated() {
                    if index > 0 { out += "," }
                    JSON.writeString(member.0, to: &out)
                    out += ":"
                    member.1.write(to: &out)
                }
                out += "}"
            }
        }

        static func writeString(_ value: String, to out: inout String) {
            out += "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "<", ">", "&", "\u{2028}", "\u{2029}":
                    out += String(format: "\\u%04x", scalar.value)
                default:
                    if scalar.value < 0x20 {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            out += "\""
        }
    }

    // MARK: - Helpers

    fileprivate enum Util {
        static func parseQuery(_ query: String?) -> [String: String] {
            var result: [String: String] = [:]
            for pair in (query ?? "").split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String {
                    let spaced = text.replacingOccurrences(of: "+", with: " ")
                    return spaced.removingPercentEncoding ?? spaced
                }
                let key = decode(parts[0])
                if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
            }
            return result
        }

        static func decodeInput(_ body: String) -> [String: String]? {
            let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed == "null" { return [:] }
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
            var result: [String: String] = [:]
            for (key, value) in object {
                guard let string = value as? String else { return nil }
                result[key] = string
            }
            return result
        }

        static func unixNow() -> Int { Int(Date().timeIntervalSince1970) }

        static func randomString(_ length: Int, alphabet: [Character]) -> String {
            String((0..<length).map { _ in alphabet.randomElement()! })
        }

        /// 20 characters in xid's alphabet (`[0-9a-v]`), like mautrix's login process and request IDs.
        static func randomID() -> String { Util.randomString(20, alphabet: Array("0123456789abcdefghijklmnopqrstuv")) }

        /// A dummybridge-style code: Crockford base32, "XXXX-XXXX".
        static func randomCode() -> String {
            let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
            return Util.randomString(4, alphabet: alphabet) + "-" + Util.randomString(4, alphabet: alphabet)
        }
    }

    fileprivate enum FakeServerError: Error { case stoppedBeforeListening }

    /// One-shot result of starting the server.
    fileprivate final class Ready: Sendable {
        private let state = Mutex<(result: Result<Int, any Error>?, continuation: CheckedContinuation<Int, any Error>?)>(
            (nil, nil))

        func complete(_ result: Result<Int, any Error>) {
            let continuation: CheckedContinuation<Int, any Error>? = state.withLock { s in
                guard s.result == nil else { return nil }
                s.result = result
                let continuation = s.continuation
                s.continuation = nil
                return continuation
            }
            continuation?.resume(with: result)
        }

        func wait() async throws -> Int {
            try await withCheckedThrowingContinuation { continuation in
                let result: Result<Int, any Error>? = state.withLock { s in
                    if let result = s.result { return result }
                    s.continuation = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }

    // MARK: - Hummingbird glue

    fileprivate struct FakeContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel

        init(source: ApplicationRequestContextSource) {
            self.coreContext = .init(source: source)
            self.channel = source.channel
        }
    }

    fileprivate struct FakeResponder: HTTPResponder {
        let server: FakeProvisioningServer

        func respond(to request: Request, context: FakeContext) async throws -> Response {
            try await server.respond(to: request, context: context)
        }
    }

    /// Tells when the client goes away (half-close or close), which Hummingbird does not report to
    /// handlers: the old generation fails a login whose long-poll loses its client.
    fileprivate final class ConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = NIOAny

        private let state = Mutex<(closed: Bool, next: UInt64, callbacks: [UInt64: @Sendable () -> Void])>((false, 0, [:]))

        /// Calls `callback` once the client has gone away (at once if it already has); nil then.
        func onClose(_ callback: @escaping @Sendable () -> Void) -> UInt64? {
            let token: UInt64? = state.withLock { s in
                if s.closed { return nil }
                s.next += 1
                s.callbacks[s.next] = callback
                return s.next
            }
            if token == nil { callback() }
            return token
        }

        func removeCallback(_ token: UInt64) {
            _ = state.withLock { $0.callbacks.removeValue(forKey: token) }
        }

        private func fire() {
            let callbacks = state.withLock { s in
                s.closed = true
                let callbacks = s.callbacks.values
                s.callbacks.removeAll()
                return Array(callbacks)
            }
            for callback in callbacks { callback() }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed { fire() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            fire()
            context.fireChannelInactive()
        }
    }
}
