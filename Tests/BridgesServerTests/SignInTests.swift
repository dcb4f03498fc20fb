import BridgesCore
import BridgesTestSupport
import Foundation
import NIOHTTP1
import Testing

@testable import BridgesServer

/// The sign-in extension without a homeserver: who a token is, revoking it, the attempt limit.
/// Signing in against a real homeserver is tested with Synapse (Tests/conformance/test_signin.py).
@Suite(.timeLimit(.minutes(2)))
struct SignInTests {
    @Test func whoamiAndSignout() async throws {
        try await TestServer.run { server in
            let (_, bobToken) = try await server.user(.bob)
            let bob = try await server.rawJSON(.GET, "/_bridges/v1/whoami", headers: ["Authorization": "Bearer \(bobToken)"], authorized: false)
            #expect(bob.status == 200)
            #expect(bob.json["userID"] as? String == "@bob:example.test")
            #expect(bob.json["matrixSignIn"] as? Bool == false)

            // The environment's token acts as the owner and cannot be revoked through the API.
            let owner = try await server.rawJSON(.GET, "/_bridges/v1/whoami")
            #expect(owner.json["userID"] as? String == server.owner.rawValue)
            #expect(owner.json["tokenID"] as? String == "environment")
            let refused = try await server.rawJSON(.POST, "/_bridges/v1/signout")
            #expect(refused.status == 400)
            #expect(refused.json["code"] as? String == "token_not_revocable")

            let signedOut = try await server.raw(.POST, "/_bridges/v1/signout", headers: ["Authorization": "Bearer \(bobToken)"], authorized: false)
            #expect(signedOut.status == 204)
            let after = try await server.rawJSON(.GET, "/v1/bridges", headers: ["Authorization": "Bearer \(bobToken)"], authorized: false)
            #expect(after.status == 401)
        }
    }

    @Test func signinWithoutAHomeserverIsNotOffered() async throws {
        try await TestServer.run { server in
            let answer = try await server.rawJSON(
                .POST, "/_bridges/v1/signin", body: #"{"userID":"@alice:example.test","password":"pw"}"#,
                headers: ["Content-Type": "application/json"], authorized: false)
            #expect(answer.status == 404)
            #expect(answer.json["code"] as? String == "signin_not_configured")
        }
    }

    @Test func failedAttemptsAreLimitedWithinTheirWindow() async throws {
        let clock = ManualClock()
        let attempts = SignInAttempts(window: .seconds(900), clock: AnyClock(clock))
        for _ in 0..<3 {
            #expect(await attempts.wait(for: "user:@a:x", limit: 3) == nil)
            await attempts.recordFailure(for: "user:@a:x")
        }
        #expect(await attempts.wait(for: "user:@a:x", limit: 3) == 900)
        #expect(await attempts.wait(for: "user:@b:x", limit: 3) == nil)
        clock.advance(by: .seconds(600))
        #expect(await attempts.wait(for: "user:@a:x", limit: 3) == 300)
        clock.advance(by: .seconds(300))
        #expect(await attempts.wait(for: "user:@a:x", limit: 3) == nil)
    }
}
