import BridgesAPI
import BridgesClient
import BridgesCore
import BridgesServer
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Two users on one server, over real HTTP: every route answers the other user's IDs exactly as
/// it answers IDs that do not exist, lists never show the other's objects, and nothing the
/// other asked for changes anything of the owner's.
@Suite(.timeLimit(.minutes(2))) struct IsolationTests {
    /// What the owner has made before the other user starts poking at it.
    struct OwnersThings {
        var login = "owner-pw"
        var account = "demo-password_owner-pw"
        var workspaceLogin = "owner@example.com"
        var workspaceAccounts: [String] = []
        var messengerAccount = ""
        var completedSession = ""
        var cancelledSession = ""
        var liveSession = ""
        var liveStep = ""
    }

    /// A password login, a workspace login with three accounts, a messenger login, and one
    /// session of each kind: completed, cancelled, still waiting.
    static func makeOwnersThings(_ server: TestServer) async throws -> OwnersThings {
        var things = OwnersThings()
        let password = try await server.createSession("demo-password")
        let done = try await server.submit(
            password, step: try #require(password.userInputStep).stepID, .userInput, ["username": things.login, "password": "pw"])
        #expect(done.account?.accountID == things.account)
        things.completedSession = password.loginSessionID

        let workspace = try await server.createSession("demo-workspace")
        let joined = try await server.submit(
            workspace, step: try #require(workspace.userInputStep).stepID, .userInput,
            ["email": things.workspaceLogin, "password": "pw"])
        things.workspaceAccounts = try #require(joined.login?.accountIDs)
        #expect(things.workspaceAccounts.count == 3)

        // The messenger completes by itself once its demo delay passes.
        let messenger = try await server.createSession("demo-messenger", flowID: "nothing")
        let paired = try await eventually({ try await server.session("demo-messenger", messenger.loginSessionID) }) {
            $0.status != .waitingForDisplay
        }
        #expect(paired.status == .complete)
        things.messengerAccount = try #require(paired.account?.accountID)

        let cancelled = try await server.createSession("demo-password")
        _ = try await server.client.cancelLoginSession(
            path: .init(bridgeID: "demo-password", loginSessionID: cancelled.loginSessionID)
        ).ok
        things.cancelledSession = cancelled.loginSessionID

        let live = try await server.createSession("demo-password")
        things.liveSession = live.loginSessionID
        things.liveStep = try #require(live.userInputStep).stepID
        return things
    }

    @Test func everyRouteAnswersAnotherUsersIDsAsMissingOnes() async throws {
        try await TestServer.run { server in
            let owners = try await Self.makeOwnersThings(server)
            let bob = try await OtherUser.add(.bob, to: server)

            /// The same request with the owner's ID and with one that exists nowhere.
            func expectSameAnswer(
                _ method: HTTPMethod, _ template: String, body: String? = nil, owners id: String, missing: String,
                code: String, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws {
                let others = try await bob.rawJSON(method, template.replacingOccurrences(of: "{}", with: id), body: body?.replacingOccurrences(of: "{}", with: id))
                let nowhere = try await bob.rawJSON(
                    method, template.replacingOccurrences(of: "{}", with: missing), body: body?.replacingOccurrences(of: "{}", with: missing))
                let shape = ErrorShape(others, id: id)
                #expect(shape == ErrorShape(nowhere, id: missing), "\(method) \(template)", sourceLocation: sourceLocation)
                #expect(shape.status == 404, "\(method) \(template): \(shape)", sourceLocation: sourceLocation)
                #expect(shape.code == code, "\(method) \(template): \(shape)", sourceLocation: sourceLocation)
            }

            let sessions = "/v1/bridges/demo-password/login-sessions"
            for id in [owners.liveSession, owners.completedSession, owners.cancelledSession] {
                try await expectSameAnswer(.GET, "\(sessions)/{}", owners: id, missing: "ls_nothing_here", code: "login_session_not_found")
                try await expectSameAnswer(.DELETE, "\(sessions)/{}", owners: id, missing: "ls_nothing_here", code: "login_session_not_found")
                try await expectSameAnswer(
                    .POST, "\(sessions)/{}/steps/\(owners.liveStep)",
                    body: #"{"type":"user_input","fields":{"username":"bob-took-it","password":"pw"}}"#,
                    owners: id, missing: "ls_nothing_here", code: "login_session_not_found")
            }

            for (bridge, login) in [("demo-password", owners.login), ("demo-workspace", owners.workspaceLogin)] {
                for kind in ["logins", "connections"] {
                    try await expectSameAnswer(.GET, "/v1/bridges/\(bridge)/\(kind)/{}", owners: login, missing: "nobody", code: "login_not_found")
                    try await expectSameAnswer(
                        .POST, "/v1/bridges/\(bridge)/\(kind)/{}/remove", body: #"{"scope":"all-devices"}"#, owners: login,
                        missing: "nobody", code: "login_not_found")
                }
                // A reconnect of the owner's login is a reference to nothing.
                try await expectSameAnswer(
                    .POST, "/v1/bridges/\(bridge)/login-sessions", body: #"{"loginID":"{}"}"#, owners: login, missing: "nobody",
                    code: "login_not_found")
            }

            for account in [owners.account] + owners.workspaceAccounts {
                try await expectSameAnswer(.GET, "/v1/accounts/{}", owners: account, missing: "demo-password_nobody", code: "account_not_found")
                try await expectSameAnswer(
                    .POST, "/demo/accounts/{}/reconnect-required", owners: account, missing: "demo-password_nobody",
                    code: "account_not_found")
                let bridge = account.hasPrefix("demo-password") ? "demo-password" : "demo-workspace"
                try await expectSameAnswer(
                    .POST, "/v1/bridges/\(bridge)/login-sessions", body: #"{"accountID":"{}"}"#, owners: account,
                    missing: "demo-password_nobody", code: "account_not_found")
            }

            // None of it touched the owner's things: logins healthy, the live session still theirs.
            let logins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(logins.map(\.loginID) == [owners.login])
            #expect(logins.first?.status == .connected)
            let accounts = try await server.client.listAccounts().ok.body.json
            #expect(accounts.map(\.accountID).sorted() == ([owners.account, owners.messengerAccount] + owners.workspaceAccounts).sorted())
            #expect(accounts.allSatisfy { $0.status == .connected })
            let live = try await server.session("demo-password", owners.liveSession)
            #expect(live.status == .waitingForInput)
            let finished = try await server.submit(live, step: owners.liveStep, .userInput, ["username": "owner-two", "password": "pw"])
            #expect(finished.status == .complete)
            #expect(finished.loginID == "owner-two")
            #expect(try await server.session("demo-password", owners.cancelledSession).status == .cancelled)
        }
    }

    @Test func listsAndCountsShowOnlyTheCallersOwn() async throws {
        try await TestServer.run { server in
            let owners = try await Self.makeOwnersThings(server)
            let bob = try await OtherUser.add(.bob, to: server)

            let bridges = try await bob.client.listBridges().ok.body.json.items
            #expect(bridges.count == 4)
            for bridge in bridges {
                #expect(bridge.accounts.isEmpty, "\(bridge.id)")
                #expect(bridge.activeAccountCount == 0, "\(bridge.id)")
                #expect(bridge.status == .available, "\(bridge.id)")
                let one = try await bob.client.getBridge(path: .init(bridgeID: bridge.id)).ok.body.json
                #expect(one.accounts.isEmpty)
                #expect(try await bob.client.listLogins(path: .init(bridgeID: bridge.id)).ok.body.json.items.isEmpty)
                // The connections era's alias, raw: the generated client's method for it is deprecated.
                let connections = try await bob.rawJSON(.GET, "/v1/bridges/\(bridge.id)/connections")
                #expect((connections.json["items"] as? [Any])?.isEmpty == true)
            }
            #expect(try await bob.client.listAccounts().ok.body.json.isEmpty)
            let whoami = try await bob.client.whoAmI().ok.body.json
            #expect(whoami.userID == UserID.bob.rawValue)

            // The owner's single-account messenger does not hold Bob back; his own login does.
            let messenger = try await bob.client.createLoginSession(
                path: .init(bridgeID: "demo-messenger"), body: .json(.init(flowID: "nothing"))
            ).ok.body.json
            #expect(messenger.status == .waitingForDisplay)
            let paired = try await eventually({
                try await bob.client.getLoginSession(path: .init(bridgeID: "demo-messenger", loginSessionID: messenger.loginSessionID))
                    .ok.body.json
            }) { $0.status != .waitingForDisplay }
            let bobsMessenger = try #require(paired.account?.accountID)
            #expect(try await bob.client.getBridge(path: .init(bridgeID: "demo-messenger")).ok.body.json.status == .connected)

            // The same login ID on both sides: two logins, each seen and removed by its user alone.
            let session = try await bob.client.createLoginSession(path: .init(bridgeID: "demo-password"), body: .json(.init()))
                .ok.body.json
            let done = try await bob.client.submitLoginStep(
                path: .init(bridgeID: "demo-password", loginSessionID: session.loginSessionID, stepID: try #require(session.userInputStep).stepID),
                body: .json(.init(_type: .userInput, fields: .init(additionalProperties: ["username": owners.login, "password": "pw"])))
            ).ok.body.json
            #expect(done.loginID == owners.login)
            #expect(done.account?.accountID == owners.account)

            let bobsAccounts = try await bob.client.listAccounts().ok.body.json.map(\.accountID)
            #expect(bobsAccounts.sorted() == [owners.account, bobsMessenger].sorted())
            let ownersAccounts = try await server.client.listAccounts().ok.body.json.map(\.accountID)
            #expect(ownersAccounts.sorted() == ([owners.account, owners.messengerAccount] + owners.workspaceAccounts).sorted())
            let ownersBridges = try await server.client.listBridges().ok.body.json.items
            #expect(ownersBridges.first { $0.id == "demo-workspace" }?.activeAccountCount == 3)
            #expect(try await bob.client.listBridges().ok.body.json.items.first { $0.id == "demo-workspace" }?.activeAccountCount == 0)

            _ = try await bob.client.removeLogin(
                path: .init(bridgeID: "demo-password", loginID: owners.login), body: .json(.init(scope: .allDevices))
            ).ok
            #expect(try await bob.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items.isEmpty)
            let ownersLogins = try await server.client.listLogins(path: .init(bridgeID: "demo-password")).ok.body.json.items
            #expect(ownersLogins.map(\.loginID) == [owners.login])
            // A re-sent removal is remembered for Bob only; the owner's login is still there to remove.
            let again = try await bob.client.removeLogin(
                path: .init(bridgeID: "demo-password", loginID: owners.login), body: .json(.init(scope: .allDevices))
            ).ok.body.json
            #expect(again.status == .removed)
            #expect(try await server.client.getLogin(path: .init(bridgeID: "demo-password", loginID: owners.login)).ok.body.json.status == .connected)
        }
    }

    @Test func theSessionCapIsEachUsersOwn() async throws {
        try await TestServer.run(configure: { $0.maxSessionsPerUser = 3 }) { server in
            let bob = try await OtherUser.add(.bob, to: server)
            var owners: [String] = []
            for _ in 0..<3 { owners.append(try await server.createSession("demo-password").loginSessionID) }
            let refused = try await server.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}")
            #expect(refused.status == 429)
            #expect(refused.json["code"] as? String == "too_many_login_sessions")
            let elsewhere = try await server.rawJSON(.POST, "/v1/bridges/demo-cookies/login-sessions", body: "{}")
            #expect(elsewhere.status == 429)

            // Bob is not held back by the owner's sessions, and meets the cap on his own.
            for _ in 0..<3 {
                #expect(try await bob.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}").status == 200)
            }
            let bobRefused = try await bob.rawJSON(.POST, "/v1/bridges/demo-cookies/login-sessions", body: "{}")
            #expect(bobRefused.status == 429)
            #expect(bobRefused.json["code"] as? String == "too_many_login_sessions")

            // A session the owner ends frees a place for the owner alone.
            _ = try await server.client.cancelLoginSession(path: .init(bridgeID: "demo-password", loginSessionID: owners[0])).ok
            #expect(try await server.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}").status == 200)
            #expect(try await server.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}").status == 429)
            #expect(try await bob.rawJSON(.POST, "/v1/bridges/demo-password/login-sessions", body: "{}").status == 429)
        }
    }
}
