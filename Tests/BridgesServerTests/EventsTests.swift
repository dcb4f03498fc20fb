import BridgesAPI
import BridgesCore
import BridgesServer
import BridgesTestSupport
import Foundation
import HTTPTypes
import NIOHTTP1
import Testing
import NIOWebSocket
import WSCore

/// `/v1/ws` over real sockets: the control messages, the exact events of each kind of login,
/// their bodies (the very types the HTTP API answers), and subscribers that do not keep up.
@Suite(.timeLimit(.minutes(2))) struct EventsTests {
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    private func event(_ text: String?) throws -> Schemas.EventMessage {
        try Self.decoder.decode(Schemas.EventMessage.self, from: Data(try #require(text).utf8))
    }

    private func sessionEvent(_ text: String?) throws -> Schemas.LoginSession {
        guard case .loginSession_updated(let event) = try event(text) else {
            Issue.record("expected login-session.updated, got \(text ?? "nothing")")
            throw CancellationError()
        }
        return event.data
    }

    /// Connects, checks `ready`, subscribes and checks the answer.
    private func subscribed(_ server: TestServer, bridgeIDs: [String] = ["*"]) async throws -> (EventsProbe, EventsProbe.Messages) {
        let probe = EventsProbe(server: server)
        var messages = probe.messages()
        let ready = try #require(await messages.next())
        #expect(ready["type"] as? String == "ready")
        #expect(ready["version"] as? Int == 1)
        probe.subscribe(bridgeIDs: bridgeIDs)
        let updated = try #require(await messages.next())
        #expect(updated["type"] as? String == "subscriptions.updated")
        #expect(updated["requestID"] as? String == "r1")
        #expect(updated["bridgeIDs"] as? [String] == bridgeIDs)
        return (probe, messages)
    }

    @Test func aPasswordLoginIsAnnouncedStepByStep() async throws {
        try await TestServer.run { server in
            var (probe, messages) = try await subscribed(server, bridgeIDs: ["demo-password"])
            defer { probe.close() }
            let session = try await server.createSession("demo-password", flowID: "password")
            let first = try sessionEvent(await messages.nextText())
            #expect(first == session)
            let done = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput, ["username": "ev", "password": "pw"])
            #expect(try sessionEvent(await messages.nextText()) == done)

            guard case .login_upserted(let login) = try event(await messages.nextText()) else {
                Issue.record("expected login.upserted")
                return
            }
            #expect(login.data == done.login)
            #expect(login.seq == 3)
            guard case .account_updated(let account) = try event(await messages.nextText()) else {
                Issue.record("expected account.updated")
                return
            }
            #expect(account.data == done.account)
            guard case .bridge_updated(let bridge) = try event(await messages.nextText()) else {
                Issue.record("expected bridge.updated")
                return
            }
            let listed = try await server.client.getBridge(path: .init(bridgeID: "demo-password")).ok.body.json
            #expect(bridge.data == listed)

            // Another bridge's login is not this subscriber's business; a removal of its own is.
            _ = try await server.rawJSON(.POST, "/v1/bridges/demo-workspace/login-sessions", body: #"{"flowID":"email"}"#)
            _ = try await server.client.removeLogin(
                path: .init(bridgeID: "demo-password", loginID: "ev"), body: .json(.init(scope: .allDevices)))
            guard case .login_deleted(let deleted) = try event(await messages.nextText()) else {
                Issue.record("expected login.deleted")
                return
            }
            #expect(deleted.data == .init(bridgeID: "demo-password", loginID: "ev", accountIDs: ["demo-password_ev"]))
            #expect(await messages.types(1) == ["bridge.updated"])
        }
    }

    @Test func aQRLoginRefreshesTwiceThenCompletes() async throws {
        let clock = ManualClock()
        try await TestServer.run(clock: AnyClock(clock)) { server in
            var (probe, messages) = try await subscribed(server, bridgeIDs: ["demo-messenger"])
            defer { probe.close() }
            let session = try await server.createSession("demo-messenger", flowID: "qr")
            var shown: [String] = []
            for refresh in 0..<3 {
                let update = try sessionEvent(await messages.nextText())
                guard case .displayAndWait(let step) = update.currentStep, case .qr(let qr) = step.display else {
                    Issue.record("expected a QR, got \(update)")
                    return
                }
                shown.append(qr.data)
                if refresh < 2 {
                    await clock.waitForSleeper(dueIn: .seconds(1))
                    clock.advance(by: .seconds(1))
                }
            }
            #expect(Set(shown).count == 3)
            let current = try await server.session("demo-messenger", session.loginSessionID)
            guard case .displayAndWait(let step) = current.currentStep, case .qr(let qr) = step.display else {
                Issue.record("expected a QR")
                return
            }
            #expect(qr.data == shown.last)
            _ = try await server.raw(.GET, String(qr.data.dropFirst(server.baseURL.count)), authorized: false)
            let done = try sessionEvent(await messages.nextText())
            #expect(done.status == .complete)
            #expect(await messages.types(3) == ["login.upserted", "account.updated", "bridge.updated"])
        }
    }

    @Test func cancelAndExpiryAreAnnounced() async throws {
        let clock = ManualClock()
        try await TestServer.run(clock: AnyClock(clock)) { server in
            var (probe, messages) = try await subscribed(server)
            defer { probe.close() }
            let cancelled = try await server.createSession("demo-password", flowID: "password")
            _ = try sessionEvent(await messages.nextText())
            _ = try await server.client.cancelLoginSession(
                path: .init(bridgeID: "demo-password", loginSessionID: cancelled.loginSessionID))
            let end = try sessionEvent(await messages.nextText())
            #expect(end.loginSessionID == cancelled.loginSessionID)
            #expect(end.status == .cancelled)

            let idle = try await server.createSession("demo-password", flowID: "password")
            _ = try sessionEvent(await messages.nextText())
            await clock.waitForSleeper(dueIn: .seconds(5))  // the maintenance loop
            clock.advance(by: .seconds(601))
            let expired = try sessionEvent(await messages.nextText())
            #expect(expired.loginSessionID == idle.loginSessionID)
            #expect(expired.status == .failed)
            #expect(expired.error?.code == "session_expired")
        }
    }

    @Test func anAccountThatNeedsReconnectingIsAnnounced() async throws {
        try await TestServer.run { server in
            let session = try await server.createSession("demo-password", flowID: "password")
            _ = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput, ["username": "rc", "password": "pw"])
            var (probe, messages) = try await subscribed(server)
            defer { probe.close() }
            let marked = try await server.raw(.POST, "/demo/accounts/demo-password_rc/reconnect-required")
            #expect(marked.status == 200)
            guard case .login_upserted(let login) = try event(await messages.nextText()),
                case .account_updated(let account) = try event(await messages.nextText()),
                case .bridge_updated(let bridge) = try event(await messages.nextText())
            else {
                Issue.record("expected login.upserted, account.updated, bridge.updated")
                return
            }
            #expect(login.data.status == .needsLogin)
            #expect(account.data.status == .reconnectRequired)
            #expect(bridge.data.activeAccountCount == 0)
        }
    }

    @Test func controlMessagesAndTheirErrors() async throws {
        try await TestServer.run { server in
            // A token in the header is checked before the upgrade.
            let refused = EventsProbe(server: server, headers: [.authorization: "Bearer wrong"])
            await #expect(throws: (any Error).self) { _ = try await refused.connection.value }

            // A browser sends it as the first message instead.
            let browser = EventsProbe(server: server, headers: [:])
            defer { browser.close() }
            var messages = browser.messages()
            browser.send(#"{"type":"authenticate","token":"\#(server.token)"}"#)
            #expect(try #require(await messages.next())["type"] as? String == "ready")

            // Beeper Desktop's chat subscriptions and unknown commands get an error; the connection stays.
            browser.send(#"{"type":"subscriptions.set","requestID":"c1","chatIDs":["*"]}"#)
            let chats = try #require(await messages.next())
            #expect(chats["type"] as? String == "error")
            #expect(chats["requestID"] as? String == "c1")
            #expect(chats["code"] as? String == "chat_subscriptions_unsupported")
            browser.send("not json")
            #expect(try #require(await messages.next())["code"] as? String == "invalid_json")
            browser.send(#"{"type":"subscriptions.set","requestID":"c2","bridgeIDs":["*","demo-password"]}"#)
            #expect(try #require(await messages.next())["code"] as? String == "invalid_subscription")
            browser.subscribe(requestID: "c3")
            #expect(try #require(await messages.next())["type"] as? String == "subscriptions.updated")

            // A wrong first message closes the connection.
            let wrong = EventsProbe(server: server, headers: [:])
            var wrongMessages = wrong.messages()
            wrong.send(#"{"type":"authenticate","token":"nope"}"#)
            #expect(await wrongMessages.next() == nil)
            #expect(try await wrong.connection.value?.closeCode == .init(codeNumber: 4401))

            // A plain GET is told to upgrade.
            let plain = try await server.rawJSON(.GET, "/v1/ws")
            #expect(plain.status == 426)
            #expect(plain.json["code"] as? String == "upgrade_required")
        }
    }

    @Test func aStuckSubscriberIsClosedAndSlowsNoOneElse() async throws {
        let logs = LogRecorder()
        try await TestServer.run(logs: logs, configure: { $0.eventBufferSize = 16 }) { server in
            let stuck = EventsProbe(server: server, reading: false)
            defer { stuck.close() }
            stuck.subscribe()
            var (healthy, messages) = try await subscribed(server)
            defer { healthy.close() }

            // Logins until the stuck subscriber's socket and buffer are full and it is dropped;
            // each login grows the bridge's account list, so its events grow too.
            var logins = 0
            var dropped = false
            while !dropped, logins < 600 {
                logins += 1
                let session = try await server.createSession("demo-password", flowID: "password")
                let done = try await server.submit(
                    session, step: try #require(session.userInputStep).stepID, .userInput,
                    ["username": "stuck-\(logins)", "password": "pw"])
                #expect(done.status == .complete)
                // The healthy subscriber hears of each login while the stuck one is still connected.
                var seen = 0
                while seen < 5, await messages.nextText() != nil { seen += 1 }
                #expect(seen == 5)
                dropped = logs.text.contains("closing an events subscriber that fell behind")
            }
            #expect(dropped, "the stuck subscriber was never dropped after \(logins) logins")

            // Once it reads again it finds the events it had taken, then the end.
            stuck.resumeReading()
            var stuckMessages = stuck.messages()
            var received = 0
            while await stuckMessages.nextText() != nil { received += 1 }
            #expect(received < 2 + logins * 5)
        }
    }
}
