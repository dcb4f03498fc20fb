import BridgesCore
import BridgesTestSupport
import BridgesWeb
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct SignInTests {
    @Test(arguments: ["/", "/connect/demo-password", "/connect/demo-password/ls_unknown", "/connect/demo-password/ls_x?part=step", "/accounts/demo-password/alice/remove"])
    func everyPageSendsASignedOutBrowserToSignIn(path: String) async throws {
        try await PageHarness.run { harness in
            let response = try await TestBrowser(harness).get(path)
            #expect(response.status == 303)
            #expect(response.location?.hasPrefix("/signin") == true)
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieHoldingASessionIDNotTheToken() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            let form = try await browser.get("/signin")
            #expect(form.status == 200)
            #expect(form.body.contains("<label for=\"token\">Access token</label>"))
            #expect(!form.body.contains("Matrix ID"))
            let response = try await browser.signIn(next: "/connect/demo-password")
            #expect(response.status == 303)
            #expect(response.location == "/connect/demo-password")
            let cookie = try #require(response.setCookies.first { $0.hasPrefix("bridges_page=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"))
            #expect(!cookie.contains(PageHarness.token))
            let page = try await browser.get("/")
            #expect(page.status == 200)
            #expect(page.body.contains("Demo Password"))
            #expect(page.body.contains("@owner:localhost"))
            #expect(!page.body.contains(PageHarness.token))
        }
    }

    @Test func theCookieIsSecureBehindHTTPS() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            let nonce = try await browser.get("/signin").hidden("nonce") ?? ""
            let response = try await browser.post(
                "/signin", form: [("method", "token"), ("nonce", nonce), ("next", "/"), ("token", PageHarness.token)],
                headers: [.init("X-Forwarded-Proto")!: "https"])
            let cookie = try #require(response.setCookies.first { $0.hasPrefix("bridges_page=") })
            #expect(cookie.contains("Secure"))
        }
    }

    @Test func aWrongTokenIsRefusedInPlainWords() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            let response = try await browser.signIn(token: "not-a-token")
            #expect(response.status == 401)
            #expect(response.body.contains("That access token is not valid"))
            #expect(!response.setCookies.contains { $0.hasPrefix("bridges_page=") })
            #expect(try await browser.get("/").status == 303)
        }
    }

    @Test func aSignInFormFromElsewhereIsRefused() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            // No nonce from the sign-in page's own cookie: another site's form.
            let forged = try await browser.post(
                "/signin", form: [("method", "token"), ("nonce", "guess"), ("next", "/"), ("token", PageHarness.token)])
            #expect(forged.status == 400)
            #expect(browser.cookie("bridges_page") == nil)
            let crossSite = try await browser.post(
                "/signin", form: [("method", "token"), ("token", PageHarness.token)], origin: "http://evil.example")
            #expect(crossSite.status == 403)
        }
    }

    @Test func signingOutEndsThePageSession() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let session = try #require(browser.cookie("bridges_page"))
            let csrf = try await browser.csrf()
            let response = try await browser.post("/signout", form: [("csrf", csrf)])
            #expect(response.status == 303)
            #expect(response.location == "/signin?ended=signout")
            #expect(response.setCookies.contains { $0.hasPrefix("bridges_page=;") && $0.contains("Max-Age=0") })
            #expect(try await browser.get("/").status == 303)
            // The old ID opens nothing, even if a browser kept it.
            let replay = try await harness.client.execute(uri: "/", method: .get, headers: [.cookie: "bridges_page=\(session)"])
            #expect(replay.status == .seeOther)
            #expect(try await browser.get("/signin?ended=signout").body.contains("You signed out."))
        }
    }

    @Test func revokingTheTokenEndsThePageSession() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            #expect(try await browser.get("/").status == 200)
            harness.revoked.revoke("tok_test")
            let response = try await browser.get("/")
            #expect(response.status == 303)
            #expect(response.location == "/signin?ended=expired")
        }
    }

    @Test func matrixSignInIsOfferedOnlyWhenTheServerProvidesIt() async throws {
        try await PageHarness.run(password: true) { harness in
            let browser = TestBrowser(harness)
            let form = try await browser.get("/signin")
            #expect(form.body.contains("<label for=\"matrix-user\">Matrix ID</label>"))
            #expect(form.body.contains("<label for=\"matrix-password\">Password</label>"))
            let nonce = form.hidden("nonce") ?? ""
            let wrong = try await browser.post(
                "/signin", form: [("method", "password"), ("nonce", nonce), ("next", "/"), ("user", "@owner:localhost"), ("password", "nope")])
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("That Matrix ID or password is not right"))
            #expect(!wrong.body.contains("nope"))
            let nonce2 = wrong.hidden("nonce") ?? ""
            let right = try await browser.post(
                "/signin",
                form: [("method", "password"), ("nonce", nonce2), ("next", "/"), ("user", "@owner:localhost"), ("password", "correct horse")])
            #expect(right.status == 303)
            #expect(try await browser.get("/").status == 200)
        }
    }

    @Test func pageSessionsExpireWhenIdle() async throws {
        let clock = ManualClock()
        let sessions = PageSessions(clock: AnyClock(clock), idleTimeout: .seconds(60), maxAge: .seconds(600))
        let identity = PageIdentity(user: PageHarness.owner, tokenID: "tok")
        let session = await sessions.create(for: identity)
        clock.advance(by: .seconds(59))
        #expect(await sessions.session(session.id) != nil)
        clock.advance(by: .seconds(59))
        #expect(await sessions.session(session.id) != nil)
        clock.advance(by: .seconds(61))
        #expect(await sessions.session(session.id) == nil)
        let other = await sessions.create(for: identity)
        for _ in 0..<13 {
            clock.advance(by: .seconds(50))
            _ = await sessions.session(other.id)
        }
        #expect(await sessions.session(other.id) == nil)
        #expect(await sessions.count == 0)
    }
}
