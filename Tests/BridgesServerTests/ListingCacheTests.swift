import BridgesAPI
import Foundation
import NIOHTTP1
import Testing

/// The listings are served from bytes made once, and must never be stale after a change.
@Suite(.timeLimit(.minutes(2))) struct ListingCacheTests {
    @Test func listingsFollowEveryChange() async throws {
        try await TestServer.run { server in
            func accounts() async throws -> [Schemas.Account] {
                try await server.client.listAccounts().ok.body.json
            }
            func passwordBridge() async throws -> Schemas.Bridge {
                let listed = try await server.client.listBridges().ok.body.json.items
                return try #require(listed.first { $0.id == "demo-password" })
            }
            #expect(try await accounts().isEmpty)
            #expect(try await passwordBridge().accounts.isEmpty)

            let session = try await server.createSession("demo-password", flowID: "password")
            _ = try await server.submit(
                session, step: try #require(session.userInputStep).stepID, .userInput, ["username": "cached", "password": "pw"])
            #expect(try await accounts().map(\.accountID) == ["demo-password_cached"])
            #expect(try await passwordBridge().activeAccountCount == 1)

            _ = try await server.raw(.POST, "/demo/accounts/demo-password_cached/reconnect-required")
            #expect(try await accounts().first?.status == .reconnectRequired)
            #expect(try await passwordBridge().activeAccountCount == 0)

            _ = try await server.client.removeLogin(
                path: .init(bridgeID: "demo-password", loginID: "cached"), body: .json(.init(scope: .allDevices)))
            #expect(try await accounts().isEmpty)
            #expect(try await passwordBridge().accounts.isEmpty)
        }
    }
}
