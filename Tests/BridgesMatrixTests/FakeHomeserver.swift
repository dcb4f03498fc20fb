import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A homeserver's client-server API as far as sign-in goes (login, whoami, logout,
/// `/.well-known/matrix/client`), on 127.0.0.1 and a free port. It answers as Synapse does where
/// that matters (403 `M_FORBIDDEN` for a wrong password, the user part of a login matched
/// case-insensitively) and can be told to answer otherwise.
final class FakeHomeserver: Sendable {
    struct Recorded: Sendable, Hashable {
        let method: String
        let path: String
        /// The bearer token the request carried.
        let token: String?
    }

    enum WhoAmIAnswer: Sendable {
        case asIssued
        /// Names this user whatever the token.
        case user(String)
        case guest
        case status(Int, String)
        /// Holds the answer until ``release()``.
        case hold
    }

    struct Answer: Sendable {
        var status: Int
        var body: String
        var retryAfterHeader: String? = nil
    }

    private struct State {
        var serverName = "hs.test"
        var passwords: [String: String] = [:]
        var sessions: [String: String] = [:]
        var requests: [Recorded] = []
        var loginBodies: [Data] = []
        var whoAmI = WhoAmIAnswer.asIssued
        var loginOverride: Answer?
        var wellKnown: Answer?
        var held: [CheckedContinuation<Void, Never>] = []
        var running: (group: ServiceGroup, task: Task<Void, Never>)?
        var counter = 0
    }

    private let state = Mutex(State())

    /// Starts listening and returns the base URL.
    func start() async throws -> String {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: Responder(server: self),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Logger(label: "fake-homeserver", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(services: [app], logger: Logger(label: "fake-homeserver", factory: { _ in SwiftLogNoOpLogHandler() })))
        let task = Task {
            try? await group.run()
            continuation.finish()
        }
        state.withLock { $0.running = (group, task) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw FakeHomeserverDidNotStart() }
        return "http://127.0.0.1:\(port)"
    }

    func stop() async {
        release()
        guard let (group, task) = state.withLock({ $0.running }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }

    // MARK: What the test sets up

    var serverName: String {
        get { state.withLock { $0.serverName } }
        set { state.withLock { $0.serverName = newValue } }
    }

    func addUser(_ userID: String, password: String) {
        state.withLock { $0.passwords[userID] = password }
    }

    /// A session the user opened themselves, for a sign-in with a Matrix access token.
    func openSession(for userID: String) -> String {
        state.withLock { state in
            state.counter += 1
            let token = "syt_own_\(state.counter)"
            state.sessions[token] = userID
            return token
        }
    }

    func answerWhoAmI(_ answer: WhoAmIAnswer) {
        state.withLock { $0.whoAmI = answer }
    }

    func answerLogin(_ answer: Answer?) {
        state.withLock { $0.loginOverride = answer }
    }

    /// `nil`: 404, as a server without the file.
    func answerWellKnown(_ answer: Answer?) {
        state.withLock { $0.wellKnown = answer }
    }

    /// Lets held whoami requests answer.
    func release() {
        let held = state.withLock { state in
            defer { state.held = [] }
            if case .hold = state.whoAmI { state.whoAmI = .asIssued }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    // MARK: What the test reads

    var requests: [Recorded] { state.withLock { $0.requests } }
    var loginBodies: [Data] { state.withLock { $0.loginBodies } }
    /// Every session still open, as token → user.
    var sessions: [String: String] { state.withLock { $0.sessions } }

    func requests(to path: String) -> [Recorded] {
        requests.filter { $0.path == path }
    }

    // MARK: Answering

    private struct Responder: HTTPResponder {
        let server: FakeHomeserver

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            let token = request.headers[.authorization].flatMap { value in
                value.hasPrefix("Bearer ") ? String(value.dropFirst("Bearer ".count)) : nil
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            let path = request.uri.path
            server.state.withLock { $0.requests.append(Recorded(method: request.method.rawValue, path: path, token: token)) }
            let answer: Answer =
                switch (request.method, path) {
                case (.get, "/.well-known/matrix/client"): server.state.withLock { $0.wellKnown } ?? Answer(status: 404, body: "{}")
                case (.post, "/_matrix/client/v3/login"): server.login(Data(body.readableBytesView))
                case (.get, "/_matrix/client/v3/account/whoami"): await server.whoAmI(token)
                case (.post, "/_matrix/client/v3/logout"): server.logout(token)
                default: Answer(status: 404, body: #"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#)
                }
            var headers: HTTPFields = [.contentType: "application/json"]
            if let retryAfter = answer.retryAfterHeader { headers[.retryAfter] = retryAfter }
            return Response(
                status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
    }

    private struct LoginBody: Decodable {
        struct Identifier: Decodable {
            let type: String
            let user: String
        }
        let type: String
        let identifier: Identifier
        let password: String
    }

    private func login(_ body: Data) -> Answer {
        state.withLock { state in
            state.loginBodies.append(body)
            if let override = state.loginOverride { return override }
            guard let login = try? JSONDecoder().decode(LoginBody.self, from: body), login.type == "m.login.password",
                login.identifier.type == "m.id.user"
            else { return Answer(status: 400, body: #"{"errcode":"M_BAD_JSON","error":"Bad login"}"#) }
            // As Synapse does: the user part is matched without regard to case.
            let parts = login.identifier.user.dropFirst().split(separator: ":", maxSplits: 1)
            let canonical = parts.count == 2 ? "@\(parts[0].lowercased()):\(parts[1])" : login.identifier.user
            guard state.passwords[canonical] == login.password else {
                return Answer(status: 403, body: #"{"errcode":"M_FORBIDDEN","error":"Invalid username or password"}"#)
            }
            state.counter += 1
            let token = "syt_login_\(state.counter)"
            state.sessions[token] = canonical
            return Answer(
                status: 200,
                body: #"{"user_id":"\#(canonical)","access_token":"\#(token)","device_id":"DEVICE\#(state.counter)"}"#)
        }
    }

    private func whoAmI(_ token: String?) async -> Answer {
        let hold: Bool = state.withLock { if case .hold = $0.whoAmI { true } else { false } }
        if hold {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    guard case .hold = state.whoAmI else { return true }
                    state.held.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return state.withLock { state in
            guard let token, let user = state.sessions[token] else {
                return Answer(status: 401, body: #"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}"#)
            }
            switch state.whoAmI {
            case .asIssued, .hold: return Answer(status: 200, body: #"{"user_id":"\#(user)","device_id":"D"}"#)
            case .user(let other): return Answer(status: 200, body: #"{"user_id":"\#(other)"}"#)
            case .guest: return Answer(status: 200, body: #"{"user_id":"\#(user)","is_guest":true}"#)
            case .status(let status, let body): return Answer(status: status, body: body)
            }
        }
    }

    private func logout(_ token: String?) -> Answer {
        state.withLock { state in
            guard let token, state.sessions.removeValue(forKey: token) != nil else {
                return Answer(status: 401, body: #"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}"#)
            }
            return Answer(status: 200, body: "{}")
        }
    }
}

struct FakeHomeserverDidNotStart: Error {}

/// Runs `body` with a started fake and stops it afterwards, also when `body` throws.
func withFakeHomeserver(_ body: (FakeHomeserver, String) async throws -> Void) async throws {
    let fake = FakeHomeserver()
    let url = try await fake.start()
    do {
        try await body(fake, url)
    } catch {
        await fake.stop()
        throw error
    }
    await fake.stop()
}
