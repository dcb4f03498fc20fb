import BridgesCore
import BridgesMautrix
import BridgesTestSupport
import Foundation
import MautrixFake
import Testing

@Suite(.timeLimit(.minutes(1))) struct MautrixConnectorTests {
    static let generations: [FakeProvisioningServer.Generation] = [.old, .new]

    @Test(arguments: generations)
    func bridgeFlowsAndCapabilities(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let bridge = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(bridge.status == .available)
            #expect(bridge.descriptor.displayName == "Dummy")
            #expect(bridge.descriptor.type == "dummy")
            #expect(bridge.descriptor.provider == .selfHosted)
            let flows = try await h.service.loginFlows(bridgeID: "sh-dummy", for: .alice)
            #expect(flows.first?.id == "password")
            #expect(flows.contains { $0.id == "qr" })
            let capabilities = try await h.service.capabilities(bridgeID: "sh-dummy", for: .alice)
            guard case .object(let object) = capabilities else {
                Issue.record("capabilities are not an object")
                return
            }
            #expect(object["group_creation"] == .object([:]))
            #expect(object["resolve_identifier"] != nil)
        }
    }

    @Test(arguments: generations)
    func passwordLoginCompletesWithLoginAndAccount(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start()
            #expect(session.status == .waitingForInput)
            guard case .userInput(let fields, _) = session.currentStep?.step.content else {
                Issue.record("expected user input")
                return
            }
            #expect(fields.map(\.id) == ["username", "password"])
            #expect(fields.first?.label == "username, anything goes and it's used as the ID")
            #expect(fields.map(\.type) == ["username", "password"])

            let done = try await h.submit(session, ["username": "alice-remote", "password": "hunter2"])
            #expect(done.status == .complete)
            #expect(done.loginID == "alice-remote")
            #expect(done.accountID == "sh-dummy_alice-remote")
            #expect(done.login?.status == .connected)
            #expect(h.fake.stepBodies.last?.contains("hunter2") == true)

            // A re-sent submit answers the finished session without reaching the bridge again.
            let before = h.stepRequests().count
            let again = try await h.service.submit(
                bridgeID: "sh-dummy", sessionID: session.id, stepID: try #require(session.currentStep?.id),
                StepSubmission(type: .userInput, fields: ["username": "alice-remote", "password": "hunter2"]), for: .alice)
            #expect(again.session.status == .complete)
            #expect(h.stepRequests().count == before)

            let logins = try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins
            #expect(logins.map(\.loginID) == ["alice-remote"])
            #expect(logins.first?.removeScopes == [.allDevices])
            let account = try await h.service.account("sh-dummy_alice-remote", for: .alice)
            #expect(account.account.status == .connected)
        }
    }

    @Test(arguments: generations)
    func twoFactorStepThenFailureCarriesTheBridgesError(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start()
            let code = try await h.submit(session, ["username": "bob-2fa", "password": "pw"])
            guard case .userInput(let fields, _) = code.currentStep?.step.content else {
                Issue.record("expected the 2FA step")
                return
            }
            #expect(fields.map(\.id) == ["code"])
            let failed = try await h.submit(code, ["code": "000000"])
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "M_UNKNOWN")
            if generation == .new {
                #expect(failed.error?.details?["internalError"] != nil)
            }
        }
    }

    @Test(arguments: generations)
    func incorrectPasswordFailsTheSession(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start()
            let failed = try await h.submit(session, ["username": "x", "password": "incorrectpassword"])
            #expect(failed.status == .failed)
            #expect(failed.error?.code == "M_UNKNOWN")
            #expect(failed.error?.details?["errcode"] == .string("M_UNKNOWN"))
            #expect(failed.currentStep == nil)
        }
    }

    @Test func wrongStepIDAndUnknownFlowNeverReachTheBridge() async throws {
        try await MautrixHarness.run(.old) { h in
            let session = try await h.start()
            let error = await #expect(throws: BridgesError.self) {
                try await h.service.submit(
                    bridgeID: "sh-dummy", sessionID: session.id, stepID: "com.beeper.dummy.wrongstep",
                    StepSubmission(type: .userInput, fields: ["username": "x", "password": "y"]), for: .alice)
            }
            #expect(error?.kind == .conflict)
            #expect(h.stepRequests().isEmpty)
            let unknownFlow = await #expect(throws: BridgesError.self) { try await h.start("nosuchflow") }
            #expect(unknownFlow?.kind == .notFound)
            // The session survived the mistake.
            let done = try await h.submit(session, ["username": "carol", "password": "pw"])
            #expect(done.status == .complete)
        }
    }

    @Test(arguments: generations)
    func cookiesStepsAreRenamed(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start("localstorage")
            #expect(session.status == .waitingForCookies)
            guard case .cookies(let prompt) = session.currentStep?.step.content else {
                Issue.record("expected a cookies step")
                return
            }
            #expect(prompt.url == "https://random.mau.fi/dummy/pages/localstorage.html")
            #expect(prompt.fields.map(\.id) == ["username", "password"])
            #expect(prompt.fields.map(\.source) == [.localStorage, .localStorage])
            let done = try await h.submit(session, ["username": "ls-user", "password": "p"], type: .cookies)
            #expect(done.loginID == "ls-user")
        }
    }

    @Test(arguments: generations)
    func qrRefreshedTwiceThenScanned(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start("qr")
            #expect(session.status == .waitingForDisplay)
            guard case .display(.qr(let first)) = session.currentStep?.step.content else {
                Issue.record("expected a QR")
                return
            }
            var seen = [first]
            for round in 1...2 {
                await h.fake.waitForLongPolls(round)
                h.fake.refreshQR()
                let refreshed = try await h.eventually(session) { latest in
                    if case .display(.qr(let data)) = latest.currentStep?.step.content { return !seen.contains(data) }
                    return false
                }
                guard case .display(.qr(let data)) = refreshed.currentStep?.step.content else {
                    Issue.record("expected a refreshed QR")
                    return
                }
                seen.append(data)
            }
            #expect(Set(seen).count == 3)
            await h.fake.waitForLongPolls(3)
            h.fake.scanQR()
            let done = try await h.eventually(session) { $0.status == .complete }
            #expect(done.status == .complete)
            #expect(done.loginID == "qr-user")
        }
    }

    @Test(arguments: generations)
    func cancelEndsTheUpstreamProcess(generation: FakeProvisioningServer.Generation) async throws {
        try await MautrixHarness.run(generation) { h in
            let session = try await h.start("qr")
            await h.fake.waitForLongPolls(1)
            _ = try await h.service.cancelSession(bridgeID: "sh-dummy", id: session.id, for: .alice)
            let after = try await h.current(session)
            #expect(after.status == .cancelled)
            if generation == .new {
                let cancels = h.fake.requests.filter { $0.contains("/login/cancel/") }
                #expect(cancels.count == 1)
            }
            // Once the bridge has let go of the long-poll (the old one fails the process when its
            // client leaves; the new one answers it 410), scanning signs nobody in.
            await h.fake.waitUntilNoLongPollIsPending()
            h.fake.scanQR()
            #expect(h.fake.loginIDs.isEmpty)
            h.expireWhoami()
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.isEmpty)
        }
    }

    @Test func whatABridgeChangesOnItsOwnIsAnnouncedWhileSomeoneListens() async throws {
        let serviceClock = ManualClock()
        try await MautrixHarness.run(.new, serviceClock: AnyClock(serviceClock)) { h in
            let first = try await h.start()
            _ = try await h.submit(first, ["username": "dropped", "password": "pw"])
            let refresh = Task { await h.service.runEventRefresh(every: .seconds(30)) }
            defer { refresh.cancel() }

            // Nobody listens: the refresh does not ask the bridge.
            await serviceClock.waitForSleeper(dueIn: .seconds(30))
            let asked = h.fake.requests.count
            h.expireWhoami()
            serviceClock.advance(by: .seconds(30))
            await serviceClock.waitForSleeper(dueIn: .seconds(30))
            #expect(h.fake.requests.count == asked)

            let events = await h.service.subscribe(for: .alice, capacity: 16)
            defer { events.cancel() }
            h.fake.setState(loginID: "dropped", stateEvent: "BAD_CREDENTIALS", message: "Password changed")
            h.expireWhoami()
            serviceClock.advance(by: .seconds(30))
            var kinds: [String] = []
            for await published in events {
                switch published.event {
                case .loginUpserted(_, let login):
                    kinds.append("login.upserted")
                    #expect(login.status == .needsLogin)
                case .accountUpdated(let view):
                    kinds.append("account.updated")
                    #expect(view.account.status == .reconnectRequired)
                    #expect(view.account.statusText == "Password changed")
                case .bridgeUpdated(let view):
                    kinds.append("bridge.updated")
                    #expect(view.activeAccountCount == 0)
                case .loginDeleted, .loginSessionUpdated:
                    kinds.append("unexpected")
                }
                if kinds.count == 3 { break }
            }
            #expect(kinds == ["login.upserted", "account.updated", "bridge.updated"])
        }
    }

    @Test func reconnectAndRemove() async throws {
        try await MautrixHarness.run(.new) { h in
            let first = try await h.start()
            _ = try await h.submit(first, ["username": "alice-remote", "password": "pw"])
            h.fake.setState(loginID: "alice-remote", stateEvent: "BAD_CREDENTIALS", message: "Password changed")
            // The whoami answer is cached for a moment.
            h.expireWhoami()
            let broken = try await h.service.account("sh-dummy_alice-remote", for: .alice)
            #expect(broken.account.status == .reconnectRequired)
            #expect(broken.account.statusText == "Password changed")
            let login = try await h.service.login(bridgeID: "sh-dummy", loginID: "alice-remote", for: .alice).login
            #expect(login.status == .needsLogin)

            let reconnect = try await h.start(loginID: "alice-remote")
            #expect(h.fake.requests.contains { $0.contains("/login/start/password") && $0.contains("login_id=alice-remote") })
            let done = try await h.submit(reconnect, ["username": "alice-remote", "password": "new"])
            #expect(done.status == .complete)
            #expect(done.login?.status == .connected)

            let removed = try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: "alice-remote", scope: .allDevices, for: .alice)
            #expect(removed.affectedAccountIDs == ["sh-dummy_alice-remote"])
            #expect(h.fake.requests.contains { $0.contains("/logout/alice-remote") })
            #expect(try await h.service.logins(bridgeID: "sh-dummy", for: .alice).logins.isEmpty)
            let wrongScope = await #expect(throws: BridgesError.self) {
                try await h.service.removeLogin(bridgeID: "sh-dummy", loginID: "nobody", scope: .currentDevice, for: .alice)
            }
            #expect(wrongScope?.kind == .notFound)
        }
    }

    @Test(arguments: [
        ("TRANSIENT_DISCONNECT", nil, AccountStatus.disconnected, LoginStatus.connecting),
        ("CONNECTED", "RELOGIN", .reconnectRequired, .needsLogin),
        ("BACKFILLING", nil, .backfilling, .connected),
        ("UNKNOWN_ERROR", nil, .attentionRequired, .unknown),
        ("CONNECTED", "OPEN_NATIVE", .attentionRequired, .connected),
        ("", nil, .connecting, .unknown),
        // Values newer than the connector: a logged fallback, not an error.
        ("SOMETHING_NEW", nil, .connecting, .unknown),
        ("CONNECTED", "SOMETHING_NEW", .connected, .connected),
    ] as [(String, String?, AccountStatus, LoginStatus)])
    func statesMapToStatuses(event: String, action: String?, account: AccountStatus, login: LoginStatus) async throws {
        try await MautrixHarness.run(.new) { h in
            let session = try await h.start()
            _ = try await h.submit(session, ["username": "dora", "password": "pw"])
            h.fake.setState(loginID: "dora", stateEvent: event, userAction: action)
            h.expireWhoami()
            let found = try await h.service.login(bridgeID: "sh-dummy", loginID: "dora", for: .alice).login
            #expect(found.status == login)
            #expect(found.accounts.first?.status == account)
        }
    }

    @Test func whoamiIsCachedForTheConfiguredAge() async throws {
        try await MautrixHarness.run(.new) { h in
            let session = try await h.start()
            _ = try await h.submit(session, ["username": "erin", "password": "pw"])
            func status() async throws -> LoginStatus {
                try await h.service.login(bridgeID: "sh-dummy", loginID: "erin", for: .alice).login.status
            }
            func whoamiRequests() -> Int { h.fake.requests.filter { $0.contains("/v3/whoami") }.count }
            #expect(try await status() == .connected)
            let asked = whoamiRequests()
            h.fake.setState(loginID: "erin", stateEvent: "BAD_CREDENTIALS")
            h.clock.advance(by: .seconds(2))  // the default age: still fresh
            #expect(try await status() == .connected)
            #expect(whoamiRequests() == asked)
            h.clock.advance(by: .milliseconds(1))
            #expect(try await status() == .needsLogin)
            #expect(whoamiRequests() == asked + 1)
        }
    }

    @Test func wrongSecretListsTheBridgeAsUnavailableAndAnswers502() async throws {
        try await MautrixHarness.run(.old, secret: "not-the-secret-0123456789") { h in
            let bridge = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(bridge.status == .temporarilyUnavailable)
            #expect(bridge.statusText?.contains("M_UNKNOWN_TOKEN") == true)
            #expect(bridge.statusText?.contains("not-the-secret") == false)
            let error = await #expect(throws: BridgesError.self) { try await h.service.loginFlows(bridgeID: "sh-dummy", for: .alice) }
            #expect(error?.kind == .upstream)
            #expect(error?.code == "bridge_auth_failed")
        }
    }

    @Test func bridgeGoingAwayMidSessionFailsOnlyThatSessionAndRecovers() async throws {
        try await MautrixHarness.run(.new) { h in
            let session = try await h.start("qr")
            await h.fake.waitForLongPolls(1)
            h.fake.setFault(.refuseConnections)
            let failed = try await h.eventually(session) { $0.status == .failed }
            #expect(failed.status == .failed)
            await h.fake.settle()
            h.expireWhoami()
            let down = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(down.status == .temporarilyUnavailable)
            let unreachable = await #expect(throws: BridgesError.self) { try await h.start() }
            #expect(unreachable?.kind == .upstream)

            h.fake.setFault(.none)
            await h.fake.settle()
            h.expireWhoami()
            let back = try await h.service.bridge("sh-dummy", for: .alice)
            #expect(back.status == .available)
        }
    }

    @Test func aBridgeThatNeverAnswersDoesNotHoldUpTheList() async throws {
        // The listing's bound runs on a manual clock: the list answers when that second passes,
        // long before the connector's read timeout, however slow the machine.
        let listingClock = ManualClock()
        try await MautrixHarness.run(.new, readTimeout: .seconds(60), serviceClock: AnyClock(listingClock)) { h in
            h.fake.setFault(.hang)
            let listing = Task { await h.service.bridges(for: .alice) }
            await listingClock.waitForSleeper(dueIn: .seconds(1))
            listingClock.advance(by: .seconds(1))
            let bridges = await listing.value
            #expect(bridges.first?.status == .temporarilyUnavailable)
            #expect(bridges.first?.statusText?.contains("did not answer within 1 second.") == true)
        }
    }

    @Test func aBridgeThatNeverAnswersFailsWithTheReadTimeout() async throws {
        try await MautrixHarness.run(.new, readTimeout: .seconds(1)) { h in
            h.fake.setFault(.hang)
            let error = await #expect(throws: BridgesError.self) { try await h.service.loginFlows(bridgeID: "sh-dummy", for: .alice) }
            #expect(error?.kind == .upstream)
            #expect(error?.message.contains("did not answer in time") == true)
        }
    }

    @Test func aDroppedLongPollReattachesOnNewBridges() async throws {
        try await MautrixHarness.run(.new) { h in
            let session = try await h.start("qr")
            await h.fake.waitForLongPolls(1)
            h.fake.setFault(.refuseConnections)
            _ = try await h.fake.start()  // runs after the fault has closed the listener
            // The connector retries the dropped long-poll on the same transaction.
            await h.fake.waitForLongPolls(2)
            #expect(try await h.current(session).status == .waitingForDisplay)
            h.fake.scanQR()
            let done = try await h.eventually(session) { $0.status != .waitingForDisplay }
            #expect(done.status == .complete)
            #expect(done.loginID == "qr-user")
            let reattached = h.fake.requests.filter { $0.contains("/display_and_wait") && $0.contains("txn_id=") }
            #expect(reattached.count >= 2)
        }
    }

    @Test func aSlowBridgeStillWorks() async throws {
        try await MautrixHarness.run(.new) { h in
            h.fake.setFault(.slow(.milliseconds(300)))
            let session = try await h.start()
            let done = try await h.submit(session, ["username": "slow-user", "password": "pw"])
            #expect(done.status == .complete)
            #expect(done.loginID == "slow-user")
        }
    }

    @Test func garbageIsAnUpstreamError() async throws {
        try await MautrixHarness.run(.new) { h in
            h.fake.setFault(.garbage)
            let error = await #expect(throws: BridgesError.self) { try await h.service.loginFlows(bridgeID: "sh-dummy", for: .alice) }
            #expect(error?.kind == .upstream)
            #expect(error?.code == "invalid_bridge_response")
        }
    }
}
