import BridgesAPI
import BridgesCore
import BridgesServer
import BridgesStore
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

/// A data directory made by the release before users (see Fixtures/pre-users/README.md), opened
/// by today's server: everything in it now belongs to the owner, and to nobody else.
@Suite(.timeLimit(.minutes(2))) struct MigrationTests {
    /// What the fixture's README says was made, and the token that made it.
    struct Fixture: Decodable {
        var token: String
        var tokenID: String
        var loginID: String
        var accountID: String
        var completedSessionID: String
        var unfinishedSessionID: String

        static func directory() throws -> URL {
            try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/pre-users")
        }

        static func load() throws -> Fixture {
            try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: try directory().appendingPathComponent("fixture.json")))
        }

        /// A copy of the old data directory to open (the fixture itself stays as it was made).
        static func copy() throws -> URL {
            let target = FileManager.default.temporaryDirectory.appendingPathComponent("bridges-pre-users-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: try directory().appendingPathComponent("bridges.sqlite"), to: target.appendingPathComponent("bridges.sqlite"))
            return target
        }
    }

    private func asOldToken(
        _ server: TestServer, _ fixture: Fixture, _ method: HTTPMethod, _ path: String, body: String? = nil
    ) async throws -> (status: Int, json: [String: Any]) {
        try await server.rawJSON(method, path, body: body, headers: ["Authorization": "Bearer \(fixture.token)"], authorized: false)
    }

    @Test(arguments: [nil, UserID.alice] as [UserID?])
    func theOldTokenAndLoginsBelongToTheOwner(configuredOwner: UserID?) async throws {
        let fixture = try Fixture.load()
        let directory = try Fixture.copy()
        defer { try? FileManager.default.removeItem(at: directory) }
        let owner = configuredOwner ?? UserID.defaultOwner
        try await TestServer.run(dataDirectory: directory, configure: { if let configuredOwner { $0.owner = configuredOwner } }) { server in
            #expect(server.owner == owner)
            let whoami = try await asOldToken(server, fixture, .GET, "/_bridges/v1/whoami")
            #expect(whoami.status == 200)
            #expect(whoami.json["userID"] as? String == owner.rawValue)
            #expect(whoami.json["tokenID"] as? String == fixture.tokenID)
            #expect(try await server.store.users().map(\.id) == [owner])
            #expect(try await server.store.tokens().map(\.userID) == [owner])

            let logins = try await asOldToken(server, fixture, .GET, "/v1/bridges/demo-password/logins")
            #expect(logins.status == 200)
            #expect((logins.json["items"] as? [[String: Any]])?.compactMap { $0["loginID"] as? String } == [fixture.loginID])
            let account = try await asOldToken(server, fixture, .GET, "/v1/accounts/\(fixture.accountID)")
            #expect(account.status == 200)
            #expect(account.json["status"] as? String == "connected")
            let completed = try await asOldToken(
                server, fixture, .GET, "/v1/bridges/demo-password/login-sessions/\(fixture.completedSessionID)")
            #expect(completed.json["status"] as? String == "complete")
            #expect(completed.json["loginID"] as? String == fixture.loginID)
            // A session the old server left unfinished ended with the restart, and says so.
            let unfinished = try await asOldToken(
                server, fixture, .GET, "/v1/bridges/demo-password/login-sessions/\(fixture.unfinishedSessionID)")
            #expect(unfinished.json["status"] as? String == "failed")
            #expect((unfinished.json["error"] as? [String: Any])?["code"] as? String == "server_restarted")

            // The token from the environment acts for the owner too, and sees the same login.
            let listed = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(listed.map(\.loginID) == [fixture.loginID])

            // Another user sees none of it, and is answered as if it did not exist.
            let bob = try await OtherUser.add(.bob, to: server)
            #expect(try await bob.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items.isEmpty)
            #expect(try await bob.client.listAccounts().ok.body.json.isEmpty)
            let missing = try await bob.rawJSON(.GET, "/v1/accounts/\(fixture.accountID)")
            #expect(ErrorShape(missing, id: fixture.accountID) == ErrorShape(try await bob.rawJSON(.GET, "/v1/accounts/nope"), id: "nope"))
            #expect(missing.status == 404)
            let session = try await bob.rawJSON(.GET, "/v1/bridges/demo-password/login-sessions/\(fixture.completedSessionID)")
            #expect(session.status == 404)

            // The old login is the owner's to remove.
            let removed = try await asOldToken(
                server, fixture, .POST, "/v1/bridges/demo-password/logins/\(fixture.loginID)/remove", body: #"{"scope":"all-devices"}"#)
            #expect(removed.status == 200)
            #expect(removed.json["affectedAccountIDs"] as? [String] == [fixture.accountID])
        }
    }

    @Test func aMigratedDirectoryOpensAgainUnchanged() async throws {
        let fixture = try Fixture.load()
        let directory = try Fixture.copy()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestServer.run(dataDirectory: directory) { server in
            #expect(try await asOldToken(server, fixture, .GET, "/v1/accounts").status == 200)
            _ = try await server.store.addUser(.bob, at: Date())
        }
        // The second start finds the users' migration done: nothing moves to a new owner.
        try await TestServer.run(dataDirectory: directory, configure: { $0.owner = .alice }) { server in
            let whoami = try await asOldToken(server, fixture, .GET, "/_bridges/v1/whoami")
            #expect(whoami.json["userID"] as? String == UserID.defaultOwner.rawValue)
            let users = try await server.store.users().map(\.id)
            #expect(Set(users) == [UserID.defaultOwner, .bob, .alice])
            let accounts = try await asOldToken(server, fixture, .GET, "/v1/accounts")
            #expect(accounts.status == 200)
            #expect(try await server.store.integrityProblems().isEmpty)
        }
    }
}
