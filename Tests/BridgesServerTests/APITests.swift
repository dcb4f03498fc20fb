import BridgesAPI
import BridgesClient
import BridgesCore
import BridgesServer
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

typealias Schemas = Components.Schemas

/// Every operation and every error status, over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct APITests {
    @Test func infoNeedsNoTokenAndReportsTheServer() async throws {
        try await TestServer.run { server in
            let info = try await server.client.getInfo().ok.body.json
            #expect(info.app.name == "Bridges")
            #expect(info.server.baseUrl == server.baseURL)
            #expect(info.server.remoteAccess == false)
            let raw = try await server.raw(.GET, "/v1/info", authorized: false)
            #expect(raw.status == 200)
            #expect(raw.headers["X-Beeper-Desktop-Version"].first == BridgesVersion.current)
        }
    }

    @Test(arguments: ["/v1/bridges", "/v1/accounts", "/v1/spec", "/v1/bridges/demo-password/logins"])
    func everyOtherRouteNeedsAToken(path: String) async throws {
        try await TestServer.run { server in
            let missing = try await server.rawJSON(.GET, path, authorized: false)
            #expect(missing.status == 401)
            #expect(missing.json["code"] as? String == "unauthorized")
            let wrong = try await server.rawJSON(.GET, path, headers: ["Authorization": "Bearer nope"], authorized: false)
            #expect(wrong.status == 401)
            #expect(wrong.json["message"] is String)
        }
    }

    @Test func specIsTheOpenAPIDocument() async throws {
        try await TestServer.run { server in
            let response = try await server.raw(.GET, "/v1/spec")
            #expect(response.status == 200)
            #expect(response.body == (try OpenAPIDocument.yaml()))
        }
    }

    @Test func listsTheDemoBridges() async throws {
        try await TestServer.run { server in
            let bridges = try await server.client.listBridges().ok.body.json.items
            #expect(bridges.map(\.id) == ["demo-password", "demo-messenger", "demo-cookies", "demo-workspace"])
            for bridge in bridges {
                #expect(bridge.provider == .platformSdk)
                #expect(bridge.status == .available)
                #expect(bridge.accounts.isEmpty)
            }
            let messenger = try await server.client.getBridge(path: .init(bridgeID: "demo-messenger")).ok.body.json
            #expect(messenger.supportsMultipleAccounts == false)
            #expect(messenger.displayName == "Demo Messenger")
        }
    }

    @Test func unknownResourcesAre404() async throws {
        try await TestServer.run { server in
            for path in [
                "/v1/bridges/nope", "/v1/bridges/nope/capabilities", "/v1/bridges/nope/login-flows",
                "/v1/bridges/demo-password/logins/nobody", "/v1/bridges/demo-password/login-sessions/ls_nope",
                "/v1/accounts/nope", "/v1/no-such-route",
                // An encoded slash stays inside its segment.
                "/v1/bridges/demo-password%2Flogins",
            ] {
                let response = try await server.rawJSON(.GET, path)
                #expect(response.status == 404, "\(path)")
                #expect(response.json["code"] is String, "\(path)")
                #expect(response.json["message"] is String, "\(path)")
            }
        }
    }

    @Test func capabilitiesAndFlows() async throws {
        try await TestServer.run { server in
            let capabilities = try await server.client.getBridgeCapabilities(path: .init(bridgeID: "demo-password")).ok.body.json
            #expect(capabilities.resolveIdentifier.createDm)
            #expect(capabilities.groupCreation.additionalProperties["group"]?.typeDescription == "group chat")
            let raw = try await server.raw(.GET, "/v1/bridges/demo-password/capabilities")
            #expect(raw.body.contains("\"resolve_identifier\""))
            let flows = try await server.client.listLoginFlows(path: .init(bridgeID: "demo-messenger")).ok.body.json.items
            #expect(flows.map(\.id) == ["qr", "pairing-code", "emoji", "nothing"])
        }
    }

    @Test func passwordLoginEndToEnd() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            #expect(session.status == .waitingForInput)
            let step = try #require(session.userInputStep)
            #expect(step.fields.map(\.id) == ["username", "password"])

            let done = try await server.submit(
                session, step: step.stepID, .userInput, ["username": "alice", "password": "hunter2"])
            #expect(done.status == .complete)
            #expect(done.loginID == "alice")
            #expect(done.login?.status == .connected)
            #expect(done.account?.accountID == "demo-password_alice")
            #expect(done.account?.bridge.provider == .platformSdk)

            let logins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(logins.map(\.loginID) == ["alice"])
            let login = try await server.client.getLogin(path: .init(bridgeID: "demo-password", loginID: "alice")).ok.body.json
            #expect(login.accountIDs == ["demo-password_alice"])
            #expect(login.removeScopes == [.currentDevice, .allDevices])
            let account = try await server.client.getAccount(path: .init(accountID: "demo-password_alice")).ok.body.json
            #expect(account.loginID == "alice")
            #expect(account.status == .connected)
            let bridge = try await server.client.getBridge(path: .init(bridgeID: "demo-password")).ok.body.json
            #expect(bridge.activeAccountCount == 1)
            #expect(try await server.client.listAccounts().ok.body.json.map(\.accountID) == ["demo-password_alice"])
        }
    }

    @Test func twoFactorLoginAndFailures() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let first = try #require(session.userInputStep)
            let second = try await server.submit(session, step: first.stepID, .userInput, ["username": "bob-2fa", "password": "pw"])
            let codeStep = try #require(second.userInputStep)
            #expect(codeStep.fields.map(\.id) == ["code"])
            let done = try await server.submit(session, step: codeStep.stepID, .userInput, ["code": "123456"])
            #expect(done.status == .complete)
            #expect(done.loginID == "bob-2fa")

            let wrong = try await server.createSession("demo-password")
            let failed = try await server.submit(
                wrong, step: try #require(wrong.userInputStep).stepID, .userInput,
                ["username": "carol", "password": "wrong-password"])
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "invalid_credentials")
            #expect(failed.currentStep == nil)
        }
    }

    @Test func submitErrors() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let step = try #require(session.userInputStep)
            let base = "/v1/bridges/demo-password/login-sessions/\(session.loginSessionID)/steps"

            let stale = try await server.rawJSON(.POST, "\(base)/not-the-step", body: #"{"type":"user_input","fields":{}}"#)
            #expect(stale.status == 409)
            #expect(stale.json["code"] as? String == "step_mismatch")

            let wrongType = try await server.rawJSON(.POST, "\(base)/\(step.stepID)", body: #"{"type":"cookies"}"#)
            #expect(wrongType.status == 409)
            #expect(wrongType.json["code"] as? String == "step_type_mismatch")

            let malformed = try await server.rawJSON(
                .POST, "\(base)/\(step.stepID)", body: "{not json", headers: ["Content-Type": "application/json"])
            #expect(malformed.status == 400)
            #expect(malformed.json["code"] as? String == "invalid_json")

            let badEnum = try await server.rawJSON(
                .POST, "\(base)/\(step.stepID)", body: #"{"type":"teleport"}"#, headers: ["Content-Type": "application/json"])
            #expect(badEnum.status == 422)
            let issues = try #require((badEnum.json["details"] as? [String: Any])?["issues"] as? [[String: Any]])
            #expect(issues.first?["path"] as? [String] == ["body", "type"])

            let missing = try await server.rawJSON(
                .POST, "\(base)/\(step.stepID)", body: #"{"type":"user_input","fields":{"username":"dave"}}"#,
                headers: ["Content-Type": "application/json"])
            #expect(missing.status == 422)
            #expect(missing.json["code"] as? String == "validation_failed")

            // The mistakes cost nothing: the session still takes the right input.
            let done = try await server.submit(session, step: step.stepID, .userInput, ["username": "dave", "password": "x"])
            #expect(done.status == .complete)

            let finished = try await server.rawJSON(.POST, "\(base)/another", body: #"{"type":"user_input"}"#)
            #expect(finished.status == 409)
            #expect(finished.json["code"] as? String == "login_session_finished")
        }
    }

    @Test func aRepeatedSubmitIsNotAppliedTwice() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let first = try #require(session.userInputStep)
            let fields = ["username": "erin-2fa", "password": "pw"]
            let second = try await server.submit(session, step: first.stepID, .userInput, fields)
            let again = try await server.submit(session, step: first.stepID, .userInput, fields)
            #expect(again.status == .waitingForInput)
            #expect(again.userInputStep?.stepID == second.userInputStep?.stepID)
        }
    }

    @Test func createSessionAcceptsNoBodyAndRejectsUnknownFlows() async throws {
        try await TestServer.run { server in
            let noBody = try await server.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions")
            #expect(noBody.status == 200)
            #expect(noBody.json["status"] as? String == "waiting_for_input")
            let getWithContentType = try await server.raw(
                .GET, "/v1/bridges", headers: ["Content-Type": "application/json"])
            #expect(getWithContentType.status == 200)
            let unknownFlow = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions", body: #"{"flowID":"carrier-pigeon"}"#,
                headers: ["Content-Type": "application/json"])
            #expect(unknownFlow.status == 404)
            #expect(unknownFlow.json["code"] as? String == "login_flow_not_found")
            let wrongType = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions", body: #"{"flowID":7}"#,
                headers: ["Content-Type": "application/json"])
            #expect(wrongType.status == 422)
        }
    }

    @Test func cancelEndsTheSession() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            let path = Operations.CancelLoginSession.Input.Path(bridgeID: "demo-password", loginSessionID: session.loginSessionID)
            let cancelled = try await server.client.cancelLoginSession(path: path).ok.body.json
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.loginSessionID == session.loginSessionID)
            let after = try await server.session("demo-password", session.loginSessionID)
            #expect(after.status == .cancelled)
            #expect(after.currentStep == nil)
            let step = try #require(session.userInputStep)
            let refused = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions/\(session.loginSessionID)/steps/\(step.stepID)",
                body: #"{"type":"user_input","fields":{"username":"a","password":"b"}}"#)
            #expect(refused.status == 409)
        }
    }

    @Test func reconnectReauthenticatesTheSameLogin() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password")
            _ = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput, ["username": "frank", "password": "pw"])
            let marked = try await server.rawJSON(.POST, "/demo/accounts/demo-password_frank/reconnect-required")
            #expect(marked.status == 200)
            let broken = try await server.client.getAccount(path: .init(accountID: "demo-password_frank")).ok.body.json
            #expect(broken.status == .reconnectRequired)

            let reconnect = try await server.createSession("demo-password", accountID: "demo-password_frank")
            #expect(reconnect.loginID == "frank")
            let done = try await server.submit(
                reconnect, step: try #require(reconnect.userInputStep).stepID, .userInput,
                ["username": "someone-else", "password": "pw"])
            #expect(done.status == .complete)
            #expect(done.loginID == "frank")
            let logins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(logins.map(\.loginID) == ["frank"])
            #expect(logins.first?.status == .connected)

            let unknown = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions", body: #"{"loginID":"nobody"}"#)
            #expect(unknown.status == 404)
        }
    }

    @Test func removeLogin() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-workspace")
            let done = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput,
                ["email": "gina@example.com", "password": "pw"])
            #expect(done.login?.accountIDs?.count == 3)
            #expect(try await server.client.listAccounts().ok.body.json.count == 3)

            let path = Operations.RemoveLogin.Input.Path(bridgeID: "demo-workspace", loginID: "gina@example.com")
            let removed = try await server.client.removeLogin(path: path, body: .json(.init(scope: .allDevices))).ok.body.json
            #expect(removed.status == .removed)
            #expect(removed.affectedAccountIDs?.count == 3)
            #expect(try await server.client.listAccounts().ok.body.json.isEmpty)
            // A retried remove reports the same removal.
            let again = try await server.client.removeLogin(path: path, body: .json(.init(scope: .allDevices))).ok.body.json
            #expect(again == removed)

            let badScope = try await server.rawJSON(
                .POST, "/v1/bridges/demo-workspace/logins/x/remove", body: #"{"scope":"everywhere"}"#)
            #expect(badScope.status == 422)
            let missing = try await server.rawJSON(.POST, "/v1/bridges/demo-workspace/logins/x/remove", body: #"{"scope":"all-devices"}"#)
            #expect(missing.status == 404)
        }
    }

    @Test func singleAccountBridgeRefusesASecondLogin() async throws {
        let clock = ManualClock()
        try await TestServer.run(clock: AnyClock(clock), configure: { $0.displayWait = .seconds(7) }) { server in
            let session = try await server.createSession("demo-messenger", flowID: "nothing")
            guard case .displayAndWait(let step) = session.currentStep else {
                Issue.record("expected a display step, got \(String(describing: session.currentStep))")
                return
            }
            #expect(step.display == .nothing(.init(_type: .nothing)))
            // The demo approves "on the other device" once its delay passes; the submit waits.
            let waiting = Task { try await server.submit(session, step: step.stepID, .displayAndWait, [:]) }
            await clock.waitForSleeper(dueIn: .milliseconds(300))
            await clock.waitForSleeper(dueIn: .seconds(7))
            clock.advance(by: .seconds(1))
            #expect(try await waiting.value.status == .complete)
            let bridge = try await server.client.getBridge(path: .init(bridgeID: "demo-messenger")).ok.body.json
            #expect(bridge.status == .connected)
            let second = try await server.rawJSON(.POST, "/v1/bridges/demo-messenger/login-sessions", body: "{}")
            #expect(second.status == 409)
            #expect(second.json["code"] as? String == "account_limit_reached")
        }
    }
}

extension TestServer {
    func createSession(
        _ bridgeID: String, flowID: String? = nil, loginID: String? = nil, accountID: String? = nil
    ) async throws -> Schemas.LoginSession {
        try await client.createLoginSession(
            path: .init(bridgeID: bridgeID),
            body: .json(.init(accountID: accountID, flowID: flowID, loginID: loginID))
        ).ok.body.json
    }

    func session(_ bridgeID: String, _ id: String) async throws -> Schemas.LoginSession {
        try await client.getLoginSession(path: .init(bridgeID: bridgeID, loginSessionID: id)).ok.body.json
    }

    func submit(
        _ session: Schemas.LoginSession, step stepID: String, _ type: Schemas.LoginStepSubmitRequest._TypePayload,
        _ fields: [String: String], source: Schemas.LoginStepSubmitRequest.SourcePayload? = nil
    ) async throws -> Schemas.LoginSession {
        try await client.submitLoginStep(
            path: .init(bridgeID: session.bridgeID, loginSessionID: session.loginSessionID, stepID: stepID),
            body: .json(.init(_type: type, fields: fields.isEmpty ? nil : .init(additionalProperties: fields), source: source))
        ).ok.body.json
    }
}

extension Schemas.LoginSession {
    var userInputStep: Schemas.UserInputLoginStep? {
        if case .userInput(let step) = currentStep { return step }
        return nil
    }
}
