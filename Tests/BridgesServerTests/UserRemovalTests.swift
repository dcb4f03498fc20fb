import BridgesAPI
import BridgesCore
import BridgesServer
import BridgesStore
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `bridges user remove` changes only the database; a running server learns of it there.
@Suite(.timeLimit(.minutes(2)))
struct UserRemovalTests {
    @Test func removingAUserRevokesTheirTokensAndEndsTheirSessions() async throws {
        let clock = ManualClock()
        try await TestServer.run(clock: AnyClock(clock)) { server in
            let (bob, bobToken) = try await server.user(.bob)
            let bobsSession = try await bob.createLoginSession(
                path: .init(bridgeID: "demo-password"), body: .json(.init(flowID: "password"))
            ).ok.body.json
            let ownersSession = try await server.createSession("demo-password", flowID: "password")

            #expect(try await server.store.removeUser(.bob))
            let refused = try await server.rawJSON(
                .GET, "/v1/bridges", headers: ["Authorization": "Bearer \(bobToken)"], authorized: false)
            #expect(refused.status == 401)

            // The next round of maintenance (the session sweep and the removed-users check, both
            // every 5 s) ends Bob's session, and only his.
            await clock.waitForSleeper(dueIn: .seconds(5), count: 2)
            clock.advance(by: .seconds(5))
            let ended = await eventually {
                (try? await server.store.session(id: bobsSession.loginSessionID))?.status == .failed
            }
            #expect(ended)
            let record = try #require(try await server.store.session(id: bobsSession.loginSessionID))
            #expect(record.error?.code == "user_removed")
            #expect(try await server.session("demo-password", ownersSession.loginSessionID).status == .waitingForInput)
        }
    }
}
