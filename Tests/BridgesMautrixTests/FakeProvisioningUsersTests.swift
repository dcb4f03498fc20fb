import AsyncHTTPClient
import Foundation
import MautrixFake
import NIOHTTP1
import Testing

/// The fake bridge with several users, over raw HTTP: each permitted user has logins and login
/// processes of their own, anyone else is refused as bridgev2 refuses them.
@Suite(.timeLimit(.minutes(2))) struct FakeProvisioningUsersTests {
    typealias Client = FakeProvisioningServerTests.Client
    typealias Answer = FakeProvisioningServerTests.Answer

    static let alice = "%40alice%3Aexample.test"
    static let bob = "%40bob%3Aexample.test"
    static let carol = "%40carol%3Aexample.test"

    func withFake(
        _ generation: FakeProvisioningServer.Generation, permitted: Set<String>? = ["@alice:example.test", "@bob:example.test"],
        _ body: (Client) async throws -> Void
    ) async throws {
        let fake = FakeProvisioningServer(generation: generation, permittedUsers: permitted)
        let client = Client(fake: fake, base: try await fake.start())
        do {
            try await body(client)
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    /// Posts the answer's current step as `user`.
    func step(_ c: Client, _ answer: Answer, body: String? = nil, as user: String) async throws -> Answer {
        let id = try #require(answer.string("login_id")), stepID = try #require(answer.string("step_id"))
        let type = try #require(answer.string("type"))
        return try await c.call(.POST, "/v3/login/step/\(id)/\(stepID)/\(type)", body: body, user: user)
    }

    @Test func withoutPermittedUsersOnlyTheDefaultUserGetsIn() async throws {
        try await withFake(.new, permitted: nil) { c in
            #expect(c.fake.permittedUsers == ["@alice:example.test"])
            #expect(try await c.call(.GET, "/v3/whoami", user: Self.alice).status == 200)
            let refused = try await c.call(.GET, "/v3/whoami", user: Self.bob)
            #expect(refused.status == 403)
            #expect(refused.body == "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"User does not have login permissions\"}\n")
        }
    }

    @Test(arguments: [FakeProvisioningServer.Generation.old, .new])
    func eachUserHasTheirOwnLoginsAndProcesses(generation: FakeProvisioningServer.Generation) async throws {
        try await withFake(generation) { c in
            let alices = try await c.call(.POST, "/v3/login/start/password", user: Self.alice)
            let bobs = try await c.call(.POST, "/v3/login/start/password", user: Self.bob)
            #expect(alices.status == 200)
            #expect(bobs.status == 200)

            // Alice's process is, for Bob, exactly an unknown one.
            let missing = try await c.call(
                .POST, "/v3/login/step/no-such-process/com.beeper.dummy.password/user_input", body: "{}", user: Self.bob)
            let others = try await step(c, alices, body: #"{"username":"bob-took-it","password":"pw"}"#, as: Self.bob)
            #expect(missing.status == 404)
            #expect(others.status == missing.status)
            #expect(others.body == missing.body)
            if generation == .new {
                let cancelled = try await c.call(.POST, "/v3/login/cancel/\(try #require(alices.string("login_id")))", user: Self.bob)
                #expect(cancelled.status == 404)
                #expect(cancelled.body == missing.body)
            }

            let aliceDone = try await step(c, alices, body: #"{"username":"alice-remote","password":"pw"}"#, as: Self.alice)
            #expect(aliceDone.string("complete", "user_login_id") == "alice-remote")
            let bobDone = try await step(c, bobs, body: #"{"username":"bob-remote","password":"pw"}"#, as: Self.bob)
            #expect(bobDone.string("complete", "user_login_id") == "bob-remote")
            if generation == .new {
                // A finished process of Alice's is still nobody's business of Bob's: 404, not 410.
                let late = try await step(c, alices, body: #"{"username":"x","password":"y"}"#, as: Self.bob)
                #expect(late.body == missing.body)
                #expect(try await step(c, alices, body: #"{"username":"x","password":"y"}"#, as: Self.alice).status == 410)
            }

            #expect(try await c.call(.GET, "/v3/logins", user: Self.alice).body == "{\"login_ids\":[\"alice-remote\"]}\n")
            #expect(try await c.call(.GET, "/v3/logins", user: Self.bob).body == "{\"login_ids\":[\"bob-remote\"]}\n")
            func whoamiLogins(_ user: String) async throws -> [String] {
                let answer = try await c.call(.GET, "/v3/whoami", user: user)
                return (answer.json["logins"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await whoamiLogins(Self.alice) == ["alice-remote"])
            #expect(try await whoamiLogins(Self.bob) == ["bob-remote"])
            // Both users' whoami name the bridge's own server, not the caller's.
            #expect(try await c.call(.GET, "/v3/whoami", user: Self.bob).string("bridge_bot") == "@dummybot:example.test")

            // Reconnecting or logging out someone else's login finds nothing.
            #expect(try await c.call(.POST, "/v3/login/start/password?login_id=alice-remote", user: Self.bob).status == 404)
            let logout = try await c.call(.POST, "/v3/logout/alice-remote", user: Self.bob)
            #expect(logout.status == 404)
            #expect(logout.body == "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"Login not found\"}\n")
            #expect(try await c.call(.POST, "/v3/logout/all", user: Self.bob).status == 200)
            #expect(c.fake.loginIDs(of: "@alice:example.test") == ["alice-remote"])
            #expect(c.fake.loginIDs(of: "@bob:example.test").isEmpty)
            #expect(c.fake.loginIDs == ["alice-remote"])
        }
    }

    @Test func usersWithoutPermissionAreRefusedOnEveryRoute() async throws {
        try await withFake(.new) { c in
            let alices = try await c.call(.POST, "/v3/login/start/password", user: Self.alice)
            let processID = try #require(alices.string("login_id"))
            for (method, path) in [
                (HTTPMethod.GET, "/v3/whoami"), (.GET, "/v3/logins"), (.GET, "/v3/capabilities"), (.GET, "/v3/login/flows"),
                (.POST, "/v3/login/start/password"), (.POST, "/v3/login/cancel/\(processID)"), (.POST, "/v3/logout/all"),
                (.POST, "/v3/login/step/\(processID)/com.beeper.dummy.password/user_input"),
            ] {
                let refused = try await c.call(method, path, body: method == .POST ? "{}" : nil, user: Self.carol)
                #expect(refused.status == 403, "\(path)")
                #expect(refused.body == "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"User does not have login permissions\"}\n")
            }
            // The refusals changed nothing: Alice's process still takes her step.
            let done = try await step(c, alices, body: #"{"username":"alice-remote","password":"pw"}"#, as: Self.alice)
            #expect(done.string("type") == "complete")
        }
    }

    @Test func theFakeRecordsWhoEachRequestWasFor() async throws {
        try await withFake(.new) { c in
            _ = try await c.call(.GET, "/v3/whoami", user: Self.alice)
            _ = try await c.call(.GET, "/v3/logins", user: Self.bob)
            _ = try await c.call(.GET, "/v3/logins", user: nil)
            let recorded = c.fake.recordedRequests
            #expect(recorded.map(\.userID) == ["@alice:example.test", "@bob:example.test", nil])
            #expect(recorded.map(\.path) == ["/_matrix/provision/v3/whoami", "/_matrix/provision/v3/logins", "/_matrix/provision/v3/logins"])
            #expect(recorded.map(\.line) == c.fake.requests)
            #expect(recorded.first?.query == "user_id=\(Self.alice)")
        }
    }

    @Test(arguments: [FakeProvisioningServer.Generation.old, .new])
    func aScanForOneUserReachesOnlyTheirProcesses(generation: FakeProvisioningServer.Generation) async throws {
        try await withFake(generation) { c in
            let alices = try await c.call(.POST, "/v3/login/start/qr", user: Self.alice)
            let bobs = try await c.call(.POST, "/v3/login/start/qr", user: Self.bob)
            let bobPoll = Task { try await step(c, bobs, as: Self.bob) }
            await c.fake.waitForLongPolls(1)
            c.fake.scanQR(for: "@bob:example.test")
            #expect(try await bobPoll.value.string("complete", "user_login_id") == "qr-user")
            #expect(c.fake.loginIDs(of: "@alice:example.test").isEmpty)

            // Alice's code was not scanned: a refresh for everyone shows her a new one.
            let alicePoll = Task { try await step(c, alices, as: Self.alice) }
            await c.fake.waitForLongPolls(2)
            c.fake.refreshQR()
            #expect(try await alicePoll.value.string("display_and_wait", "data") == "qr-payload-2")

            // A scan for a user without a code waits for their next process, not someone else's.
            c.fake.scanQR(for: "@bob:example.test")
            let next = try await c.call(.POST, "/v3/login/start/qr", user: Self.bob)
            #expect(try await step(c, next, as: Self.bob).string("complete", "user_login_id") == "qr-user")
        }
    }
}
