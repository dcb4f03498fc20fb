import BridgesCore
import Foundation
import HTTPTransport
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import BridgesMatrix

private let login = "/_matrix/client/v3/login"
private let whoami = "/_matrix/client/v3/account/whoami"
private let logout = "/_matrix/client/v3/logout"
private let wellKnown = "/.well-known/matrix/client"
private let password = "correct horse battery staple"
private let alice = UserID("@alice:hs.test")!

private func client(_ location: HomeserverLocation, timeout: Duration = .seconds(10)) -> MatrixSignInClient {
    MatrixSignInClient(
        homeserver: location, timeout: timeout, wellKnownScheme: "http",
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

/// Runs `body` with a client, shutting it down afterwards, also when `body` throws.
private func withClient(
    _ location: HomeserverLocation, timeout: Duration = .seconds(10), _ body: (MatrixSignInClient) async throws -> Void
) async throws {
    let signIn = client(location, timeout: timeout)
    do {
        try await body(signIn)
    } catch {
        await signIn.shutdown()
        throw error
    }
    await signIn.shutdown()
}

/// Runs `body` with a fake homeserver that knows alice, and a client pointed at its base URL.
private func withSignIn(_ body: (FakeHomeserver, MatrixSignInClient) async throws -> Void) async throws {
    try await withFakeHomeserver { fake, url in
        fake.addUser(alice.rawValue, password: password)
        try await withClient(.baseURL(url)) { signIn in try await body(fake, signIn) }
    }
}

/// The failure `body` throws, which must be a ``MatrixSignInFailure``.
private func failure(_ body: () async throws -> UserID) async -> MatrixSignInFailure? {
    do {
        _ = try await body()
        Issue.record("expected a MatrixSignInFailure")
        return nil
    } catch let failure as MatrixSignInFailure {
        #expect(!failure.description.contains(password))
        #expect(!failure.description.contains("syt_"))
        return failure
    } catch {
        Issue.record("expected a MatrixSignInFailure, got \(error)")
        return nil
    }
}

@Suite(.timeLimit(.minutes(2))) struct PasswordSignInTests {
    @Test func confirmsTheUserAndLogsTheSessionOut() async throws {
        try await withSignIn { fake, signIn throws in
            #expect(try await signIn.signIn(user: alice, password: password) == alice)
            #expect(fake.requests.map(\.path) == [login, whoami, logout])
            let issued = try #require(fake.requests(to: whoami).first?.token)
            #expect(fake.requests(to: logout).first?.token == issued)
            #expect(fake.sessions.isEmpty)

            let body = try #require(fake.loginBodies.first)
            let sent = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(sent["type"] as? String == "m.login.password")
            #expect(sent["identifier"] as? [String: String] == ["type": "m.id.user", "user": "@alice:hs.test"])
            #expect(sent["password"] as? String == password)
            #expect(sent["initial_device_display_name"] as? String == "Bridges sign-in")
        }
    }

    @Test func aWrongPasswordIsWrongCredentials() async throws {
        try await withSignIn { fake, signIn throws in
            #expect(await failure { try await signIn.signIn(user: alice, password: "nope") } == .wrongCredentials)
            #expect(fake.requests.map(\.path) == [login])
        }
    }

    @Test func anUnknownUserIsWrongCredentials() async throws {
        try await withSignIn { _, signIn in
            let bob = try #require(UserID("@bob:hs.test"))
            #expect(await failure { try await signIn.signIn(user: bob, password: password) } == .wrongCredentials)
        }
    }

    @Test func anotherUserConfirmedIsRefusedAndLoggedOut() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerWhoAmI(.user("@mallory:hs.test"))
            #expect(
                await failure { try await signIn.signIn(user: alice, password: password) }
                    == .userMismatch(requested: alice, confirmed: "@mallory:hs.test"))
            #expect(fake.requests(to: logout).count == 1)
            #expect(fake.sessions.isEmpty)
        }
    }

    @Test func theUserPartMayDifferInCaseOnly() async throws {
        try await withSignIn { fake, signIn throws in
            let typed = try #require(UserID("@Alice:hs.test"))
            #expect(try await signIn.signIn(user: typed, password: password) == alice)
            #expect(fake.sessions.isEmpty)
        }
        let requested = try #require(UserID("@alice:hs.test"))
        #expect(!MatrixSignInClient.isSameUser(requested: requested, confirmed: try #require(UserID("@Alice:hs.test"))))
        #expect(!MatrixSignInClient.isSameUser(requested: requested, confirmed: try #require(UserID("@alice:HS.test"))))
    }

    @Test func aFailedWhoAmIStillLogsOut() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerWhoAmI(.status(500, #"{"errcode":"M_UNKNOWN","error":"boom"}"#))
            #expect(
                await failure { try await signIn.signIn(user: alice, password: password) }
                    == .unexpectedAnswer("whoami answered HTTP 500 (M_UNKNOWN)"))
            #expect(fake.requests.map(\.path) == [login, whoami, logout])
            #expect(fake.sessions.isEmpty)
        }
    }

    @Test func aCancelledSignInStillLogsOut() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerWhoAmI(.hold)
            let attempt = Task { try await signIn.signIn(user: alice, password: password) }
            // Polled, not timed: the suite's time limit ends a wait for a request that never comes.
            while fake.requests(to: whoami).isEmpty { try await Task.sleep(for: .milliseconds(1)) }
            attempt.cancel()
            await #expect(throws: CancellationError.self) { try await attempt.value }
            #expect(fake.requests(to: logout).count == 1)
            #expect(fake.sessions.isEmpty)
        }
    }

    @Test func aRateLimitCarriesTheWait() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerLogin(.init(status: 429, body: #"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many","retry_after_ms":1500}"#))
            #expect(
                await failure { try await signIn.signIn(user: alice, password: password) }
                    == .rateLimited(retryAfter: .milliseconds(1500)))
            fake.answerLogin(.init(status: 429, body: #"{"errcode":"M_LIMIT_EXCEEDED"}"#, retryAfterHeader: "7"))
            #expect(await failure { try await signIn.signIn(user: alice, password: password) } == .rateLimited(retryAfter: .seconds(7)))
            fake.answerLogin(.init(status: 429, body: "slow down"))
            let plain = await failure { try await signIn.signIn(user: alice, password: password) }
            #expect(plain == .rateLimited(retryAfter: nil))
            #expect(MatrixSignInFailure.rateLimited(retryAfter: .milliseconds(1500)).description.contains("2 s"))
        }
    }

    @Test func aDeactivatedAccountIsSaidSo() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerLogin(.init(status: 403, body: #"{"errcode":"M_USER_DEACTIVATED","error":"gone"}"#))
            #expect(await failure { try await signIn.signIn(user: alice, password: password) } == .userDeactivated)
        }
    }

    @Test func somethingElseThanTheAPIIsUnexpected() async throws {
        try await withSignIn { fake, signIn throws in
            fake.answerLogin(.init(status: 200, body: "<html>a captive portal</html>"))
            #expect(
                await failure { try await signIn.signIn(user: alice, password: password) }
                    == .unexpectedAnswer("login answered a body that is not the expected JSON"))
            fake.answerLogin(.init(status: 400, body: #"{"errcode":"M_UNKNOWN","error":"Unknown login type"}"#))
            #expect(
                await failure { try await signIn.signIn(user: alice, password: password) }
                    == .unexpectedAnswer("login answered HTTP 400 (M_UNKNOWN)"))
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct TokenSignInTests {
    @Test func confirmsTheTokensUserAndLeavesTheSessionOpen() async throws {
        try await withSignIn { fake, signIn throws in
            let token = fake.openSession(for: alice.rawValue)
            #expect(try await signIn.signIn(matrixAccessToken: token) == alice)
            #expect(fake.requests.map(\.path) == [whoami])
            #expect(fake.requests.first?.token == token)
            #expect(fake.sessions[token] == alice.rawValue)
        }
    }

    @Test func anInvalidTokenIsWrongCredentials() async throws {
        try await withSignIn { fake, signIn throws in
            #expect(await failure { try await signIn.signIn(matrixAccessToken: "syt_forged") } == .wrongCredentials)
            #expect(fake.requests(to: logout).isEmpty)
        }
    }

    @Test func aGuestIsRefused() async throws {
        try await withSignIn { fake, signIn throws in
            let token = fake.openSession(for: alice.rawValue)
            fake.answerWhoAmI(.guest)
            #expect(await failure { try await signIn.signIn(matrixAccessToken: token) } == .guestAccount(alice))
        }
    }

    @Test func theFirstConfirmedUserNamesTheServerAndOthersAreRefused() async throws {
        try await withSignIn { fake, signIn throws in
            #expect(signIn.serverName == nil)
            #expect(try await signIn.signIn(matrixAccessToken: fake.openSession(for: alice.rawValue)) == alice)
            #expect(signIn.serverName == "hs.test")
            let eve = try #require(UserID("@eve:evil.test"))
            #expect(
                await failure { try await signIn.signIn(matrixAccessToken: fake.openSession(for: eve.rawValue)) }
                    == .foreignUser(eve, homeserver: "hs.test"))
            // A password is not even sent for a user of another server.
            let before = fake.requests.count
            #expect(await failure { try await signIn.signIn(user: eve, password: password) } == .foreignUser(eve, homeserver: "hs.test"))
            #expect(fake.requests.count == before)
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct DiscoveryTests {
    /// A fake whose users have its own address as their server name, so a client given that
    /// name finds it through `/.well-known/matrix/client`.
    private func withNamedHomeserver(_ body: (FakeHomeserver, String, UserID) async throws -> Void) async throws {
        try await withFakeHomeserver { fake, url in
            let name = String(url.dropFirst("http://".count))
            fake.serverName = name
            let user = try #require(UserID("@alice:\(name)"))
            fake.addUser(user.rawValue, password: password)
            try await body(fake, url, user)
        }
    }

    @Test func theWellKnownBaseURLIsUsedAndKept() async throws {
        try await withNamedHomeserver { fake, url, user throws in
            fake.answerWellKnown(.init(status: 200, body: #"{"m.homeserver":{"base_url":"\#(url)/"}}"#))
            try await withClient(.serverName(String(url.dropFirst("http://".count)))) { signIn throws in
                #expect(try await signIn.signIn(user: user, password: password) == user)
                #expect(try await signIn.signIn(matrixAccessToken: fake.openSession(for: user.rawValue)) == user)
                #expect(fake.requests(to: wellKnown).count == 1)
                #expect(try await signIn.baseURL() == url)
            }
        }
    }

    @Test func withoutAWellKnownTheServerNameIsTheHomeserver() async throws {
        try await withNamedHomeserver { fake, url, user throws in
            try await withClient(.serverName(String(url.dropFirst("http://".count)))) { signIn throws in
                #expect(try await signIn.signIn(user: user, password: password) == user)
                #expect(try await signIn.baseURL() == url)
            }
        }
    }

    @Test(arguments: [
        (FakeHomeserver.Answer(status: 200, body: "not json"), "is not the expected JSON"),
        (.init(status: 200, body: #"{"m.identity_server":{}}"#), "names no http(s) m.homeserver base_url"),
        (.init(status: 200, body: #"{"m.homeserver":{"base_url":"ftp://x"}}"#), "names no http(s) m.homeserver base_url"),
        (.init(status: 500, body: "{}"), "answered HTTP 500"),
    ])
    func aBadWellKnownIsADiscoveryFailure(answer: FakeHomeserver.Answer, reason: String) async throws {
        try await withNamedHomeserver { fake, url, user throws in
            fake.answerWellKnown(answer)
            let name = String(url.dropFirst("http://".count))
            try await withClient(.serverName(name)) { signIn throws in
                let failure = await failure { try await signIn.signIn(user: user, password: password) }
                #expect(failure == .discoveryFailed("\(name)'s /.well-known/matrix/client \(reason)"))
                #expect(fake.requests(to: login).isEmpty)
            }
        }
    }

    @Test func aUserOfAnotherServerIsRefusedBeforeAnyRequest() async throws {
        try await withNamedHomeserver { fake, url, _ throws in
            let name = String(url.dropFirst("http://".count))
            try await withClient(.serverName(name)) { signIn throws in
                let bob = try #require(UserID("@bob:example.org"))
                #expect(await failure { try await signIn.signIn(user: bob, password: password) } == .foreignUser(bob, homeserver: name))
                #expect(fake.requests.isEmpty)
            }
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct UnreachableHomeserverTests {
    @Test func aStoppedHomeserverIsRefused() async throws {
        let fake = FakeHomeserver()
        let url = try await fake.start()
        await fake.stop()
        try await withClient(.baseURL(url)) { signIn throws in
            #expect(await failure { try await signIn.signIn(user: alice, password: password) } == .unreachable(.refused))
            #expect(await failure { try await signIn.signIn(matrixAccessToken: "syt_x") } == .unreachable(.refused))
        }
    }

    @Test func aHomeserverThatNeverAnswersTimesOut() async throws {
        // It accepts connections and never answers, so the outcome does not depend on speed.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await withClient(.baseURL("http://127.0.0.1:\(port)"), timeout: .milliseconds(100)) { signIn throws in
            // Connecting counts against the timeout too; on a loaded machine it may be what runs out.
            let failure = await failure { try await signIn.signIn(user: alice, password: password) }
            #expect(failure == .unreachable(.timedOut) || failure == .unreachable(.connectTimedOut))
        }
        try await listener.close()
    }

    @Test func anUnreachableWellKnownIsUnreachable() async throws {
        let fake = FakeHomeserver()
        let name = String(try await fake.start().dropFirst("http://".count))
        await fake.stop()
        let user = try #require(UserID("@alice:\(name)"))
        try await withClient(.serverName(name)) { signIn throws in
            #expect(await failure { try await signIn.signIn(user: user, password: password) } == .unreachable(.refused))
        }
    }
}
