import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// Hummingbird's request context, keeping the channel so a handler can learn when its client
/// goes away and close the connection without answering, as a dying bridge does.
struct FakeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Every request's way through the fake: recorded, put through the current fault, routed,
/// authenticated with the shared secret, then handed to the login state machine.
struct FakeResponder: HTTPResponder {
    let server: FakeProvisioningServer

    private static let prefix = "/_matrix/provision/"
    private static let requestIDHeader = HTTPFields.Element.Name("Request-Id")

    func respond(to request: Request, context: FakeContext) async throws -> Response {
        let method = request.method.rawValue
        let path = request.uri.path
        let query = request.uri.query
        let parameters = Query.parse(query)
        let caller = parameters["user_id"]
        var buffer = try await request.body.collect(upTo: 16 << 20)
        let body = buffer.readString(length: buffer.readableBytes) ?? ""
        let isStep = method == "POST" && path.hasPrefix(Self.prefix + "v3/login/step/")
        let fault = server.state.withLock { s in
            s.requests.append(.init(method: method, path: path, query: query, userID: caller))
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
            _ = await server.suspend(context: context) { machine, id in
                machine.hang(waiter: id)
                return []
            }
            try? await context.channel.close()
            throw CancellationError()
        case .garbage:
            return makeResponse(Reply(200, "<html><body>this is not JSON</body></html>\n"))
        case .slow(let duration):
            try await Task.sleep(for: duration)
        }

        if method == "OPTIONS" { return makeResponse(Reply(200, "")) }
        guard path.hasPrefix(Self.prefix) else { return makeResponse(.unrecognized) }
        if let denied = authenticate(request, user: caller) { return makeResponse(denied) }
        // Permitted, so present.
        let user = caller ?? ""

        let segments = path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).removingPercentEncoding ?? String($0) }
        guard let route = Route(segments: segments, generation: server.generation) else {
            return makeResponse(.unrecognized)
        }
        guard route.method == method else { return makeResponse(.invalidMethod) }

        let reply: Reply
        switch route {
        case .whoami:
            reply = server.state.withLock { $0.machine.whoami(userID: user, homeServer: server.homeServer) }
        case .capabilities:
            reply = Reply(json: Canned.capabilities)
        case .flows:
            reply = Reply(json: .object([("flows", Canned.flows)]))
        case .logins:
            reply = server.state.withLock { s in
                Reply(json: .object([("login_ids", .array(s.machine.logins(of: user).map { .string($0.id) }))]))
            }
        case .start(let flowID):
            reply = server.state.withLock {
                $0.machine.start(flowID: flowID, override: parameters["login_id"], userID: user)
            }
        case .cancel(let processID):
            var answer = Reply(200, "")
            server.run { s in
                let (cancelled, wakeups) = s.machine.cancel(processID: processID, userID: user)
                answer = cancelled
                return wakeups
            }
            reply = answer
        case .logout(let loginID):
            reply = server.state.withLock { $0.machine.logout(loginID: loginID, userID: user) }
        case .step(let processID, let stepID, let stepType):
            let submission = LoginStateMachine.StepSubmission(
                userID: user, processID: processID, stepID: stepID, stepType: stepType, txnID: parameters["txn_id"] ?? "",
                body: body)
            switch await server.suspend(context: context, register: { $0.submit(submission, waiter: $1) }) {
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

    /// bridgev2's `AuthMiddleware`: the shared secret as a bearer token, then `user_id` must be
    /// a user with login permission.
    private func authenticate(_ request: Request, user: String?) -> Reply? {
        var token = request.headers[.authorization] ?? ""
        if token.hasPrefix("Bearer ") { token.removeFirst("Bearer ".count) }
        if token.isEmpty { return Reply(error: "M_MISSING_TOKEN", "Missing auth token", status: 401) }
        if token != server.secret { return Reply(error: "M_UNKNOWN_TOKEN", "Invalid auth token", status: 401) }
        guard let user, server.permittedUsers.contains(user) else {
            return Reply(error: "M_FORBIDDEN", "User does not have login permissions", status: 403)
        }
        return nil
    }

    /// The headers mautrix's provisioning router sets on every answer, CORS included.
    private func makeResponse(_ reply: Reply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.accessControlAllowOrigin] = "*"
        headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
        headers[.accessControlAllowHeaders] = "X-Requested-With, Content-Type, Authorization"
        if let name = Self.requestIDHeader { headers[name] = Random.id() }
        return Response(
            status: .init(code: reply.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }
}
