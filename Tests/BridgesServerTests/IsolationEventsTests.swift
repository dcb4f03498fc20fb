import BridgesAPI
import BridgesCore
import BridgesTestSupport
import Foundation
import HTTPTypes
import NIOHTTP1
import Testing

/// `/v1/ws` with two users: each hears of their own logins and sessions only, whatever they
/// subscribe to.
@Suite(.timeLimit(.minutes(2))) struct IsolationEventsTests {
    /// Connects as the token's user and follows every bridge (and `sessionIDs`).
    private func listen(_ server: TestServer, token: String) async throws -> (EventsProbe, EventsProbe.Messages) {
        let probe = EventsProbe(server: server, headers: [.authorization: "Bearer \(token)"])
        var messages = probe.messages()
        #expect(try #require(await messages.next())["type"] as? String == "ready")
        probe.subscribe()
        #expect(try #require(await messages.next())["type"] as? String == "subscriptions.updated")
        return (probe, messages)
    }

    /// Reads until a message `matches`, and returns every message read.
    private func read(_ messages: inout EventsProbe.Messages, until matches: ([String: Any]) -> Bool) async throws -> [[String: Any]] {
        var read: [[String: Any]] = []
        while true {
            let message = try #require(await messages.next(), "the connection ended")
            read.append(message)
            if matches(message) { return read }
        }
    }

    private static func type(_ message: [String: Any]) -> String { message["type"] as? String ?? "?" }
    private static func data(_ message: [String: Any]) -> [String: Any] { message["data"] as? [String: Any] ?? [:] }

    @Test func oneUsersEventsNeverReachAnother() async throws {
        try await TestServer.run { server in
            let bob = try await OtherUser.add(.bob, to: server)
            var (owner, ownerMessages) = try await listen(server, token: server.token)
            defer { owner.close() }
            var (bobs, bobMessages) = try await listen(server, token: bob.token)
            defer { bobs.close() }

            // The owner signs in, breaks, and removes a login, and leaves a session waiting.
            let session = try await server.createSession("demo-password")
            _ = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput, ["username": "heard", "password": "pw"])
            #expect(try await server.rawJSON(.POST, "/demo/accounts/demo-password_heard/reconnect-required").status == 200)
            _ = try await server.client.removeLogin(
                path: .init(bridgeID: "demo-password", loginID: "heard"), body: .json(.init(scope: .allDevices))
            ).ok
            let waiting = try await server.createSession("demo-password")
            let heard = try await read(&ownerMessages) { message in
                Self.type(message) == "login-session.updated" && Self.data(message)["loginSessionID"] as? String == waiting.loginSessionID
            }
            let kinds = Set(heard.map(Self.type))
            #expect(kinds.isSuperset(of: ["login-session.updated", "login.upserted", "account.updated", "bridge.updated", "login.deleted"]))

            // Bob asks for the owner's waiting session by ID; he is told it is subscribed to, and
            // nothing the owner did reached him (it would have come before this answer).
            bobs.subscribe(bridgeIDs: ["*"], loginSessionIDs: [waiting.loginSessionID], requestID: "peek")
            let updated = try #require(await bobMessages.next())
            #expect(Self.type(updated) == "subscriptions.updated", "\(updated)")
            #expect(updated["requestID"] as? String == "peek")

            // The owner finishes that very session; Bob's next event is still his own.
            _ = try await server.submit(
                waiting, step: try #require(waiting.userInputStep).stepID, .userInput, ["username": "heard-again", "password": "pw"])
            _ = try await read(&ownerMessages) { message in
                Self.type(message) == "login.upserted" && Self.data(message)["loginID"] as? String == "heard-again"
            }
            _ = try await read(&ownerMessages) { Self.type($0) == "bridge.updated" }
            let bobsSession = try await bob.client.createLoginSession(path: .init(bridgeID: "demo-password"), body: .json(.init()))
                .ok.body.json
            let bobsFirst = try #require(await bobMessages.next())
            #expect(Self.type(bobsFirst) == "login-session.updated", "\(bobsFirst)")
            #expect(Self.data(bobsFirst)["loginSessionID"] as? String == bobsSession.loginSessionID)

            // And the other way round: Bob's login is not announced to the owner.
            _ = try await bob.client.submitLoginStep(
                path: .init(
                    bridgeID: "demo-password", loginSessionID: bobsSession.loginSessionID,
                    stepID: try #require(bobsSession.userInputStep).stepID),
                body: .json(.init(_type: .userInput, fields: .init(additionalProperties: ["username": "bobs", "password": "pw"])))
            ).ok
            _ = try await read(&bobMessages) { message in
                Self.type(message) == "login.upserted" && Self.data(message)["loginID"] as? String == "bobs"
            }
            let ownersNext = try await server.createSession("demo-cookies")
            let ownersFirst = try #require(await ownerMessages.next())
            #expect(Self.type(ownersFirst) == "login-session.updated", "\(ownersFirst)")
            #expect(Self.data(ownersFirst)["loginSessionID"] as? String == ownersNext.loginSessionID)
        }
    }
}
