import BridgesAPI
import BridgesCore
import BridgesServer
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

/// What clients of every era rely on: the connections-era alias routes and keys, and
/// `x-should-retry`, which the official SDKs follow instead of retrying every 409 and 5xx.
@Suite(.timeLimit(.minutes(2))) struct CompatibilityTests {
    @Test func connectionsRoutesAnswerLikeLogins() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password", flowID: "password")
            let done = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput,
                ["username": "era", "password": "pw"])
            let login = try #require(done.login)
            #expect(done.connection == login)
            guard case .complete(let step) = done.currentStep else {
                Issue.record("expected the complete step, got \(String(describing: done.currentStep))")
                return
            }
            #expect(step.connection == login)
            #expect(step.login == login)

            // Raw requests: the generated client's alias methods are deprecated, as they should be.
            let logins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json
            let connections = try await server.decoded(Schemas.LoginListResponse.self, .GET, "/v1/bridges/demo-password/connections")
            #expect(connections == logins)
            let one = try await server.decoded(Schemas.BridgeLogin.self, .GET, "/v1/bridges/demo-password/connections/era")
            #expect(one == login)

            let missing = try await server.rawJSON(.GET, "/v1/bridges/demo-password/connections/nobody")
            #expect(missing.status == 404)
            #expect(missing.json["code"] as? String == "login_not_found")
            let badScope = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/connections/era/remove", body: #"{"scope":"everywhere"}"#)
            #expect(badScope.status == 422)

            let removed = try await server.decoded(
                Schemas.LoginRemoveResponse.self, .POST, "/v1/bridges/demo-password/connections/era/remove",
                body: #"{"scope":"all-devices"}"#)
            #expect(removed.affectedAccountIDs == ["demo-password_era"])
            let gone = try await server.rawJSON(.GET, "/v1/bridges/demo-password/logins/era")
            #expect(gone.status == 404)
        }
    }

    @Test(arguments: [
        (HTTPMethod.POST, "/v1/bridges/demo-password/login-sessions/SESSION/steps/stale.1", #"{"type":"user_input"}"#, 409, "false"),
        (.GET, "/v1/bridges/nowhere", nil, 404, "false"),
        (.POST, "/v1/bridges/demo-password/login-sessions/SESSION/steps/STEP", #"{"type":"user_input","fields":{}}"#, 422, "false"),
        (.POST, "/v1/bridges/demo-password/login-sessions", "{not json", 400, "false"),
        (.DELETE, "/v1/bridges", nil, 405, "false"),
    ] as [(HTTPMethod, String, String?, Int, String)])
    func errorsSayWhetherARetryCanHelp(method: HTTPMethod, path: String, body: String?, status: Int, retry: String) async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password", flowID: "password")
            let resolved = path.replacingOccurrences(of: "SESSION", with: session.loginSessionID)
                .replacingOccurrences(of: "STEP", with: try #require(session.userInputStep).stepID)
            let response = try await server.raw(method, resolved, body: body)
            #expect(response.status == status)
            #expect(response.headers["x-should-retry"].first == retry)
        }
    }

    @Test func aBadTokenIsNotRetriedAndARateLimitIs() async throws {
        try await TestServer.run(clock: AnyClock(ManualClock()), configure: { $0.requestsPerMinute = 60 }) { server in
            let unauthorized = try await server.raw(.GET, "/v1/bridges", authorized: false)
            #expect(unauthorized.status == 401)
            #expect(unauthorized.headers["x-should-retry"].first == "false")
            #expect(unauthorized.headers["www-authenticate"].first == "Bearer")
            var limited: (status: Int, body: String, headers: HTTPHeaders)?
            for _ in 0..<11 {
                let response = try await server.raw(.GET, "/v1/bridges")
                if response.status == 429 {
                    limited = response
                    break
                }
            }
            let answer = try #require(limited)
            #expect(answer.headers["x-should-retry"].first == "true")
            #expect(answer.headers["retry-after"].first.flatMap(Int.init).map { $0 >= 1 } == true)
        }
    }
}

extension TestServer {
    /// A raw request whose 200 answer is decoded as a generated type.
    func decoded<Body: Decodable>(_ type: Body.Type, _ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> Body {
        let response = try await raw(method, path, body: body)
        #expect(response.status == 200, "\(method) \(path): \(response.body)")
        return try JSONDecoder().decode(Body.self, from: Data(response.body.utf8))
    }
}
