import AsyncHTTPClient
import BridgesClient
import BridgesServer
import BridgesStore
import Foundation
import NIOCore
import NIOHTTP1
import BridgesCore
import BridgesTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct DisplayTests {
    @Test func qrRefreshesAndCompletesWhenItsURLIsOpened() async throws {
        let clock = ManualClock()
        // A display wait of its own length, so the test can tell its timer from the others.
        try await TestServer.run(clock: AnyClock(clock), configure: { $0.displayWait = .seconds(7) }) { server in
            let session = try await server.createSession("demo-messenger", flowID: "qr")
            #expect(session.status == .waitingForDisplay)
            let first = try qrStep(session)

            // A display_and_wait submit blocks until the step changes: here, the next refresh,
            // once the QR's timer and the submit's wait both sleep and a refresh interval passes.
            let waiting = Task { try await server.submit(session, step: first.stepID, .displayAndWait, [:]) }
            await clock.waitForSleeper(dueIn: .seconds(1))
            await clock.waitForSleeper(dueIn: .seconds(7))
            clock.advance(by: .seconds(1))
            let refreshed = try await waiting.value
            let second = try qrStep(refreshed)
            #expect(second.stepID != first.stepID)
            #expect(second.data != first.data)

            let opened = try await server.raw(.GET, String(second.data.dropFirst(server.baseURL.count)), authorized: false)
            #expect(opened.status == 200)
            #expect(
                try await eventually { try await server.session("demo-messenger", session.loginSessionID).status == .complete })
            let current = try await server.session("demo-messenger", session.loginSessionID)
            #expect(current.account?.accountID == "demo-messenger_phone-15550100")
            // The stale QR no longer signs anyone in.
            let stale = try await server.raw(.GET, String(first.data.dropFirst(server.baseURL.count)), authorized: false)
            #expect(stale.status == 410)
        }
    }

    @Test func pairingCodeAndEmojiDisplays() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-messenger", flowID: "pairing-code")
            let phone = try #require(session.userInputStep)
            let badPhone = try await server.rawJSON(
                .POST, "/v1/bridges/demo-messenger/login-sessions/\(session.loginSessionID)/steps/\(phone.stepID)",
                body: #"{"type":"user_input","fields":{"phone_number":"12"}}"#)
            #expect(badPhone.status == 422)
            let coded = try await server.submit(session, step: phone.stepID, .userInput, ["phone_number": "+15550100"])
            guard case .displayAndWait(let step) = coded.currentStep, case .code(let code) = step.display else {
                Issue.record("expected a code display")
                return
            }
            #expect(code.data.count == 9)
            _ = try await server.client.cancelLoginSession(
                path: .init(bridgeID: "demo-messenger", loginSessionID: session.loginSessionID))

            let emoji = try await server.createSession("demo-messenger", flowID: "emoji")
            guard case .displayAndWait(let emojiStep) = emoji.currentStep, case .emoji(let display) = emojiStep.display else {
                Issue.record("expected an emoji display")
                return
            }
            let image = try await server.raw(.GET, String(display.imageURL.dropFirst(server.baseURL.count)), authorized: false)
            #expect(image.status == 200)
            #expect(image.body.contains("<svg"))
        }
    }

    @Test func cookiesLoginThroughTheSignInPage() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-cookies")
            guard case .cookies(let step) = session.currentStep else {
                Issue.record("expected a cookies step")
                return
            }
            #expect(step.fields.map(\.id) == ["session", "csrf", "token"])
            #expect(step.fields.map(\._type) == [.cookie, .header, .localStorage])
            let page = try await server.raw(.GET, String(step.url.dropFirst(server.baseURL.count)), authorized: false)
            #expect(page.status == 200)
            // The sign-in form answers with a redirect and the session cookie; look at it unfollowed.
            let browser = HTTPClient(configuration: .init(redirectConfiguration: .disallow))
            var form = HTTPClientRequest(url: server.baseURL + "/demo/cookies/sign-in")
            form.method = .POST
            form.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            form.body = .bytes(ByteBuffer(string: "name=Hank+Hill"))
            let signedIn = try await browser.execute(form, timeout: .seconds(10))
            try await browser.shutdown()
            #expect(signedIn.status.code == 303)
            let cookie = try #require(signedIn.headers["Set-Cookie"].first)
            #expect(cookie.hasPrefix("demo_session=hank-hill."))
            let values = try await server.raw(
                .GET, "/demo/cookies/signed-in", headers: ["Cookie": String(cookie.prefix { $0 != ";" })], authorized: false)
            #expect(values.status == 200)
            #expect(values.body.contains("demo_token"))
            let done = try await server.submit(
                session, step: step.stepID, .cookies, ["session": "hank.abc", "csrf": "c", "token": "t"], source: .api)
            #expect(done.status == .complete)
            #expect(done.loginID == "hank")
        }
    }

    private func qrStep(_ session: Schemas.LoginSession) throws -> (stepID: String, data: String) {
        guard case .displayAndWait(let step) = session.currentStep, case .qr(let qr) = step.display else {
            throw TestFailure("expected a QR display, got \(String(describing: session.currentStep))")
        }
        return (step.stepID, qr.data)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite(.timeLimit(.minutes(2))) struct PersistenceTests {
    @Test func loginsSurviveARestartAndUnfinishedSessionsFail() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bridges-restart-\(UUID().uuidString)")
        let (unfinishedID, completedID) = try await TestServer.run(dataDirectory: directory) { server in
            let completed = try await server.createSession("demo-password")
            _ = try await server.submit(
                completed, step: try #require(completed.userInputStep).stepID, .userInput,
                ["username": "ivy", "password": "pw"])
            let unfinished = try await server.createSession("demo-password")
            return (unfinished.loginSessionID, completed.loginSessionID)
        }
        try await TestServer.run(dataDirectory: directory) { server in
            let logins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(logins.map(\.loginID) == ["ivy"])
            let unfinished = try await server.session("demo-password", unfinishedID)
            #expect(unfinished.status == .failed)
            #expect(unfinished.error?.code == "server_restarted")
            let completed = try await server.session("demo-password", completedID)
            #expect(completed.status == .complete)
            #expect(completed.login?.loginID == "ivy")
        }
        #expect(try await SQLiteStore(path: directory.appendingPathComponent("bridges.sqlite").path, owner: .defaultOwner).integrityProblems().isEmpty)
    }

    @Test func typedSecretsReachNeitherDiskNorLogs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bridges-secret-\(UUID().uuidString)")
        let logs = LogRecorder()
        let password = "pw-\(UUID().uuidString)"
        let code = "123456"
        // Six digits that appear nowhere else: a random number would not be told apart from an ID.
        let wrongCode = "987\(Int.random(in: 100...999))"
        try await TestServer.run(dataDirectory: directory, logs: logs) { server in
            let session = try await server.createSession("demo-password")
            let next = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput,
                ["username": "jo-2fa", "password": password])
            _ = try await server.submit(session, step: try #require(next.userInputStep).stepID, .userInput, ["code": code])
            // A wrong code ends its login: a failure path, which logs more.
            let wrongCodeSession = try await server.createSession("demo-password")
            let codeStep = try await server.submit(
                wrongCodeSession, step: try #require(wrongCodeSession.userInputStep).stepID, .userInput,
                ["username": "kim-2fa", "password": password])
            let failed = try await server.submit(
                wrongCodeSession, step: try #require(codeStep.userInputStep).stepID, .userInput, ["code": wrongCode])
            #expect(failed.status == .failed)
            // A malformed submit too: error paths log more.
            let failing = try await server.createSession("demo-password")
            _ = try await server.rawJSON(
                .POST, "/v1/bridges/demo-password/login-sessions/\(failing.loginSessionID)/steps/\(try #require(failing.userInputStep).stepID)",
                body: #"{"type":"user_input","fields":{"username":"x","password":"\#(password)"}, "lastURL": 5}"#)
        }
        #expect(!logs.text.isEmpty)
        for secret in [password, code, wrongCode] {
            #expect(!logs.text.contains(secret), "the logs hold \(secret)")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        #expect(files.contains { $0.lastPathComponent == "bridges.sqlite" })
        for file in files {
            let bytes = try Data(contentsOf: file)
            for secret in [password, code, wrongCode] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file.lastPathComponent) holds \(secret)")
            }
        }
    }
}
