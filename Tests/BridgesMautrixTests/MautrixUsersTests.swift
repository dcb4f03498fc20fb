import BridgesCore
import BridgesMautrix
import BridgesTestSupport
import MautrixFake
import Testing

/// One mautrix bridge shared by several users, through the connector and the service: each sees
/// only their own logins, acts upstream as themselves, and is let in or refused by the bridge's
/// permissions alone.
@Suite(.timeLimit(.minutes(2))) struct MautrixUsersTests {
    static let both: Set<UserID> = [.alice, .bob]

    @Test(arguments: MautrixConnectorTests.generations)
    func twoUsersOnOneBridgeSeeOnlyTheirOwnLogins(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation, permittedUsers: Self.both) { h in
            let alices = try await h.logIn("alice-remote", for: .alice)
            let bobs = try await h.logIn("bob-remote", for: .bob)
            #expect(alices.status == .complete)
            #expect(bobs.status == .complete)
            #expect(h.fake.loginIDs(of: UserID.alice.rawValue) == ["alice-remote"])
            #expect(h.fake.loginIDs(of: UserID.bob.rawValue) == ["bob-remote"])

            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.map(\.loginID) == ["alice-remote"])
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .bob).logins.map(\.loginID) == ["bob-remote"])
            #expect(await h.service.accounts(for: .alice).map(\.account.accountID) == ["sh-dummy_alice-remote"])
            #expect(await h.service.accounts(for: .bob).map(\.account.accountID) == ["sh-dummy_bob-remote"])
            #expect(try await h.service.bridge("sh-dummy", for: .bob).activeAccountCount == 1)

            // Alice's login, account and session are, for Bob, exactly what a missing one is.
            let othersLogin = await #expect(throws: BridgesError.self) {
                try await h.service.login(bridgeID: "sh-dummy", loginID: "alice-remote", for: .bob)
            }
            let missingLogin = await #expect(throws: BridgesError.self) {
                try await h.service.login(bridgeID: "sh-dummy", loginID: "nobody", for: .bob)
            }
            #expect(othersLogin?.code == "login_not_found")
            #expect(othersLogin?.code == missingLogin?.code)
            let othersAccount = await #expect(throws: BridgesError.self) {
                try await h.service.account("sh-dummy_alice-remote", for: .bob)
            }
            #expect(othersAccount?.code == "account_not_found")
            let othersSession = await #expect(throws: BridgesError.self) {
                try await h.service.session(bridgeID: "sh-dummy", id: alices.id, for: .bob)
            }
            #expect(othersSession?.code == "login_session_not_found")
            let othersReconnect = await #expect(throws: BridgesError.self) {
                try await h.start(loginID: "alice-remote", for: .bob)
            }
            #expect(othersReconnect?.code == "login_not_found")

            // Bob cannot remove Alice's login; his own goes, hers stays on the bridge.
            let removal = await #expect(throws: BridgesError.self) {
                try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: "alice-remote", scope: .allDevices, for: .bob)
            }
            #expect(removal?.code == "login_not_found")
            _ = try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: "bob-remote", scope: .allDevices, for: .bob)
            #expect(h.fake.loginIDs(of: UserID.alice.rawValue) == ["alice-remote"])
            #expect(h.fake.loginIDs(of: UserID.bob.rawValue).isEmpty)
            h.expireWhoami()
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.map(\.loginID) == ["alice-remote"])
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .bob).logins.isEmpty)
        }
    }

    @Test func theSameLoginIDStaysApartPerUser() async throws {
        try await MautrixHarness.run(.new, permittedUsers: Self.both) { h in
            _ = try await h.logIn("shared-name", for: .alice)
            _ = try await h.logIn("shared-name", for: .bob)
            h.fake.setState(loginID: "shared-name", stateEvent: "BAD_CREDENTIALS", user: UserID.bob.rawValue)
            h.expireWhoami()
            #expect(try await h.service.login(bridgeID: "sh-dummy", loginID: "shared-name", for: .alice).login.status == .connected)
            #expect(try await h.service.login(bridgeID: "sh-dummy", loginID: "shared-name", for: .bob).login.status == .needsLogin)
        }
    }

    @Test func aUserTheBridgeRefusesSeesItDisabledWhileOthersSeeItAvailable() async throws {
        try await MautrixHarness.run(.new) { h in
            let forAlice = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(forAlice.status == .available)
            #expect(forAlice.statusText == nil)

            let forBob = try await h.service.bridge("sh-dummy", for: .bob)
            #expect(forBob.status == .disabled)
            let text = try #require(forBob.statusText)
            #expect(text.contains(UserID.bob.rawValue))
            #expect(text.contains("User does not have login permissions"))
            #expect(await h.service.bridges(for: .bob).map(\.status) == [.disabled])

            let refused = await #expect(throws: BridgesError.self) { try await h.start(for: .bob) }
            #expect(refused?.kind == .conflict)
            #expect(refused?.code == "bridge_disabled")
            // Every other route says the same: a state of the bridge for Bob, not a bridge failing
            // (which would blame the shared secret, and which clients retry).
            let attempts: [@Sendable () async throws -> Void] = [
                { _ = try await h.service.logins(bridgeID: "sh-dummy", for: .bob) },
                { _ = try await h.service.login(bridgeID: "sh-dummy", loginID: "alice-remote", for: .bob) },
                { _ = try await h.service.loginFlows(bridgeID: "sh-dummy", for: .bob) },
                { _ = try await h.service.capabilities(bridgeID: "sh-dummy", for: .bob) },
                { _ = try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: "x", scope: .allDevices, for: .bob) },
            ]
            for attempt in attempts {
                let error = await #expect(throws: BridgesError.self) { try await attempt() }
                #expect(error?.kind == .conflict)
                #expect(error?.code == "bridge_disabled")
                #expect(error?.message.contains("User does not have login permissions") == true)
            }
            // Refusing Bob says nothing about Alice: her logins still work.
            #expect(try await h.logIn("alice-remote", for: .alice).status == .complete)
            #expect(try await h.service.bridge("sh-dummy", for: .alice).status == .available)
            // Every request the bridge refused was Bob's.
            let forbidden = h.fake.recordedRequests.filter { $0.userID != UserID.alice.rawValue }
            #expect(!forbidden.isEmpty)
            #expect(forbidden.allSatisfy { $0.userID == UserID.bob.rawValue })
        }
    }

    @Test func aBridgeSetUpForOneUserIsHiddenFromOthers() async throws {
        try await MautrixHarness.run(.new, permittedUsers: Self.both, servedUser: .alice) { h in
            let forAlice = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(forAlice.status == .available)
            let hidden = await #expect(throws: BridgesError.self) { try await h.service.bridge("sh-dummy", for: .bob) }
            #expect(hidden?.code == "bridge_not_found")
            #expect(await h.service.bridges(for: .bob).isEmpty)
            // Hidden means never asked on Bob's behalf, though the bridge would let him in.
            #expect(h.fake.recordedRequests.allSatisfy { $0.userID == UserID.alice.rawValue })
        }
    }

    @Test(arguments: MautrixConnectorTests.generations)
    func everyProvisioningRequestCarriesTheCallersUserID(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation, permittedUsers: Self.both) { h in
            // Each user in turn, through every kind of call the connector makes.
            var boundaries: [(UserID, Range<Int>)] = []
            for user in [UserID.alice, .bob, .alice] {
                let first = h.fake.recordedRequests.count
                h.expireWhoami()
                _ = await h.service.bridges(for: user)
                _ = try await h.service.loginFlows(bridgeID: "sh-dummy", for: user)
                _ = try await h.service.capabilities(bridgeID: "sh-dummy", for: user)
                let name = "\(user.localpart)-\(boundaries.count)"
                _ = try await h.logIn(name, for: user)
                let cancelled = try await h.start("cookies", for: user)
                _ = try await h.service.cancelSession(bridgeID: "sh-dummy", id: cancelled.id, for: user)
                _ = try await h.start(loginID: name, for: user)
                _ = try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: name, scope: .allDevices, for: user)
                boundaries.append((user, first..<h.fake.recordedRequests.count))
            }
            let recorded = h.fake.recordedRequests
            for (user, range) in boundaries {
                let paths = Set(recorded[range].map { $0.path.split(separator: "/").dropFirst(3).first.map(String.init) ?? "" })
                #expect(paths.isSuperset(of: ["whoami", "capabilities", "login", "logout"]), "\(paths)")
                for request in recorded[range] {
                    #expect(request.userID == user.rawValue, "\(request.line)")
                }
            }
            #expect(recorded.count == boundaries.last?.1.upperBound)
        }
    }

    @Test func theWhoamiCacheIsPerUser() async throws {
        try await MautrixHarness.run(.new, permittedUsers: Self.both) { h in
            _ = try await h.logIn("alice-remote", for: .alice)
            h.expireWhoami()
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.map(\.loginID) == ["alice-remote"])
            let alicesAsks = h.whoamiRequests(for: .alice)

            // Alice's fresh answer is not Bob's: his first read asks the bridge as him.
            #expect(h.whoamiRequests(for: .bob) == 0)
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .bob).logins.isEmpty)
            #expect(h.whoamiRequests(for: .bob) == 1)
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .bob).logins.isEmpty)
            #expect(h.whoamiRequests(for: .bob) == 1)

            // Bob's login forgets his answer only: Alice keeps reading hers from the cache.
            _ = try await h.logIn("bob-remote", for: .bob)
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .bob).logins.map(\.loginID) == ["bob-remote"])
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.map(\.loginID) == ["alice-remote"])
            #expect(h.whoamiRequests(for: .alice) == alicesAsks)

            // A change on the bridge shows to its user once their answer is old, and only to them.
            h.fake.setState(loginID: "alice-remote", stateEvent: "BAD_CREDENTIALS")
            h.expireWhoami()
            #expect(try await h.service.login(bridgeID: "sh-dummy", loginID: "alice-remote", for: .alice).login.status == .needsLogin)
            #expect(try await h.service.login(bridgeID: "sh-dummy", loginID: "bob-remote", for: .bob).login.status == .connected)
            #expect(h.whoamiRequests(for: .alice) == alicesAsks + 1)
        }
    }

    @Test func displayStepsOfTwoUsersRunSideBySide() async throws {
        try await MautrixHarness.run(.new, permittedUsers: Self.both) { h in
            let alices = try await h.start("qr", for: .alice)
            let bobs = try await h.start("qr", for: .bob)
            await h.fake.waitForLongPolls(2)
            // Scanning Bob's code signs Bob in; Alice's keeps waiting for hers.
            h.fake.scanQR(for: UserID.bob.rawValue)
            let bobDone = try await h.eventually(bobs, for: .bob) { $0.status == .complete }
            #expect(bobDone.loginID == "qr-user")
            #expect(try await h.current(alices, for: .alice).status == .waitingForDisplay)
            #expect(h.fake.loginIDs(of: UserID.alice.rawValue).isEmpty)
            h.fake.scanQR(for: UserID.alice.rawValue)
            let aliceDone = try await h.eventually(alices, for: .alice) { $0.status == .complete }
            #expect(aliceDone.loginID == "qr-user")
            #expect(h.fake.loginIDs(of: UserID.alice.rawValue) == ["qr-user"])
            #expect(h.fake.loginIDs(of: UserID.bob.rawValue) == ["qr-user"])
        }
    }
}
