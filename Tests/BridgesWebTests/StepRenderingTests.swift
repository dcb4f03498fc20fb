import BridgesCore
import BridgesWeb
import BridgesTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct StepRenderingTests {
    /// Starts a login session through the connect page and returns its page's path.
    static func start(_ browser: TestBrowser, bridge: String, flow: String, login: String? = nil) async throws -> String {
        var form = [("csrf", try await browser.csrf()), ("flow", flow)]
        if let login { form.append(("login", login)) }
        let response = try await browser.post("/connect/\(bridge)", form: form)
        #expect(response.status == 303)
        return try #require(response.location)
    }

    /// The step form's action, as the page renders it.
    static func action(in page: PageResponse) -> String? {
        guard let range = page.body.range(of: "<form method=\"post\" action=\"/connect/") else { return nil }
        return "/connect/" + page.body[range.upperBound...].prefix { $0 != "\"" }
    }

    @Test func userInputIsAFormWithALabelledInputPerField() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let connect = try await browser.get("/connect/demo-password")
            #expect(connect.body.contains(">Password</button>"))
            let path = try await Self.start(browser, bridge: "demo-password", flow: "password")
            let page = try await browser.get(path)
            #expect(page.status == 200)
            #expect(page.body.contains("<label for=\"field-username\">Username</label>"))
            #expect(page.body.contains("<label for=\"field-password\">Password</label>"))
            #expect(page.body.contains("id=\"field-username\" name=\"field.username\" type=\"text\" autocomplete=\"username\""))
            #expect(page.body.contains("placeholder=\"alice\""))
            #expect(page.body.contains("id=\"field-password\" name=\"field.password\" type=\"password\" autocomplete=\"current-password\""))
            #expect(page.body.contains(" required"))
            #expect(page.body.contains("Any username works."))
            #expect(page.body.contains("data-live=\"session\""))
            #expect(page.body.contains("Cancel sign-in"))

            let fragment = try await browser.get(path + "?part=step")
            #expect(fragment.body.hasPrefix("<section class=\"step\""))
            #expect(!fragment.body.contains("<html"))

            let action = try #require(Self.action(in: page))
            let csrf = try #require(page.hidden("csrf"))
            let done = try await browser.post(action, form: [("csrf", csrf), ("field.username", "alice"), ("field.password", "secret")])
            #expect(done.status == 303)
            let complete = try await browser.get(path)
            #expect(complete.body.contains("Connected to Demo Password"))
            #expect(complete.body.contains("<strong>alice</strong> is connected."))
            #expect(!complete.body.contains("secret"))
            let overview = try await browser.get("/")
            #expect(overview.body.contains("Reconnect<span class=\"visually-hidden\"> alice</span>"))
        }
    }

    @Test func aWrongPasswordEndsInPlainWordsWithAWayToStartAgain() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-password", flow: "password")
            let page = try await browser.get(path)
            _ = try await browser.post(
                try #require(Self.action(in: page)),
                form: [("csrf", try #require(page.hidden("csrf"))), ("field.username", "bob"), ("field.password", "wrong-password")])
            let failed = try await browser.get(path)
            #expect(failed.body.contains("Wrong username or password"))
            #expect(failed.body.contains("Start again"))
            #expect(!failed.body.contains("invalid_credentials"))
            #expect(!failed.body.contains("wrong-password"))
        }
    }

    @Test func aRefusedValueIsMarkedOnItsField() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-messenger", flow: "pairing-code")
            let page = try await browser.get(path)
            #expect(page.body.contains("type=\"tel\" autocomplete=\"tel\""))
            let refused = try await browser.post(
                try #require(Self.action(in: page)), form: [("csrf", try #require(page.hidden("csrf"))), ("field.phone_number", "12")])
            #expect(refused.status == 422)
            #expect(refused.body.contains("Phone number does not look right"))
            #expect(refused.body.contains("aria-invalid=\"true\" aria-describedby=\"field-phone_number-error\""))
            #expect(refused.body.contains("value=\"12\""))

            let csrf = try #require(refused.hidden("csrf"))
            _ = try await browser.post(try #require(Self.action(in: refused)), form: [("csrf", csrf), ("field.phone_number", "+15550100")])
            let code = try await browser.get(path)
            #expect(code.body.contains("Enter this code on your phone"))
            #expect(code.body.contains("<span class=\"code-text\">"))
            #expect(code.body.contains("Pairing code: </span>"))
        }
    }

    @Test func aQRCodeIsAnInlineSVGWithItsPayloadForScreenReaders() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-messenger", flow: "qr")
            let page = try await browser.get(path)
            #expect(page.body.contains("Scan the QR code"))
            #expect(page.body.contains("role=\"img\" aria-label=\"QR code to scan with your phone. It holds: http://localhost/demo/scan/"))
            #expect(page.body.contains("<svg aria-hidden=\"true\" focusable=\"false\" xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(page.body.contains("shape-rendering=\"crispEdges\""))
            #expect(!page.body.contains("<?xml"))
            #expect(page.body.contains("data-key=\"demo.messenger.qr.1|http://localhost/demo/scan/"))
        }
    }

    @Test func anEmojiIsAnImageWithAltText() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let page = try await browser.get(try await Self.start(browser, bridge: "demo-messenger", flow: "emoji"))
            #expect(page.body.contains("<img src=\"http://localhost/demo/emoji/"))
            #expect(page.body.contains("alt=\"The emoji your phone should show\""))
        }
    }

    @Test func nothingToShowIsAWaitingIndicator() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let page = try await browser.get(try await Self.start(browser, bridge: "demo-messenger", flow: "nothing"))
            #expect(page.body.contains("Waiting for approval"))
            #expect(page.body.contains("class=\"spinner\" aria-hidden=\"true\""))
            #expect(page.body.contains("role=\"status\""))
        }
    }

    @Test func cookiesStepBoxesFillFromAPastedCurlCommand() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-cookies", flow: "cookies")
            let page = try await browser.get(path)
            #expect(page.body.contains("href=\"http://localhost/demo/cookies/sign-in\" target=\"_blank\" rel=\"noopener noreferrer\""))
            #expect(page.body.contains("<label for=\"cookie-session\">Cookie demo_session</label>"))
            #expect(page.body.contains("<label for=\"cookie-csrf\">Request header X-Demo-CSRF</label>"))
            #expect(page.body.contains("<label for=\"cookie-token\">Local storage entry demo_token</label>"))
            #expect(page.body.contains("<code class=\"wrap\">http://localhost/demo/cookies/signed-in</code>"))
            #expect(page.body.contains("<label for=\"curl\">Copied cURL command</label>"))

            let csrf = try #require(page.hidden("csrf"))
            let curl = """
                curl 'http://localhost/demo/cookies/signed-in' \\
                  -H 'Accept: text/html' \\
                  -b 'demo_session=carol.abc123; theme=dark' \\
                  -H 'X-Demo-CSRF: csrf-42' \\
                  --compressed
                """
            let filled = try await browser.post(path + "/curl", form: [("csrf", csrf), ("curl", curl), ("cookie.token", "")])
            #expect(filled.status == 200)
            #expect(filled.body.contains("Filled in from the cURL command: cookie demo_session, request header X-Demo-CSRF."))
            #expect(filled.body.contains("Still to fill in: local storage entry demo_token."))
            #expect(filled.body.contains("value=\"carol.abc123\""))
            #expect(filled.body.contains("value=\"csrf-42\""))

            let broken = try await browser.post(path + "/curl", form: [("csrf", csrf), ("curl", "curl 'http://x -H \"a: b\"")])
            #expect(broken.status == 422)
            #expect(broken.body.contains("That is not a whole cURL command"))

            let action = try #require(Self.action(in: filled))
            _ = try await browser.post(
                action, form: [("csrf", csrf), ("cookie.session", "carol.abc123"), ("cookie.csrf", "csrf-42"), ("cookie.token", "tok-1")])
            let complete = try await browser.get(path)
            #expect(complete.body.contains("<strong>carol</strong> is connected."))
        }
    }

    @Test func anExpiredSessionSaysSoAndOffersToStartAgain() async throws {
        let clock = ManualClock()
        try await PageHarness.run(clock: AnyClock(clock)) { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-password", flow: "password")
            clock.advance(by: .seconds(601))
            await harness.service.maintain()
            let page = try await browser.get(path)
            #expect(page.body.contains("This sign-in expired"))
            #expect(page.body.contains("It waited too long without any activity."))
            #expect(page.body.contains("Start again"))
            #expect(!page.body.contains("session_expired"))
        }
    }

    @Test func anUnreachableBridgeIsExplainedWithAWayForward() async throws {
        try await PageHarness.run(connectors: [UnreachableConnector()]) { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let overview = try await browser.get("/")
            #expect(overview.body.contains("Down Bridge"))
            #expect(overview.body.contains("Unavailable right now"))
            #expect(overview.body.contains("did not answer (connection refused)."))
            let connect = try await browser.get("/connect/sh-down")
            #expect(connect.body.contains("Down Bridge is not available right now"))
            let started = try await browser.post("/connect/sh-down", form: [("csrf", try await browser.csrf()), ("flow", "any")])
            #expect(started.status == 502)
            #expect(started.body.contains("Down Bridge cannot be reached"))
            #expect(started.body.contains("Try again in a moment."))
            #expect(started.body.contains("Back to all networks"))
            #expect(!started.body.contains("bridge_unreachable"))
        }
    }

    @Test func cancellingEndsTheSessionOnTheServer() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-password", flow: "password")
            let csrf = try await browser.csrf()
            let response = try await browser.post(path + "/cancel", form: [("csrf", csrf)])
            #expect(response.status == 303)
            let sessionID = String(path.split(separator: "/").last ?? "")
            let view = try await harness.service.session(bridgeID: "demo-password", id: sessionID, for: PageHarness.owner)
            #expect(view.session.status == .cancelled)
            let page = try await browser.get(path)
            #expect(page.body.contains("Sign-in cancelled"))
            #expect(page.body.contains("Start again"))
            #expect(!page.body.contains("Cancel sign-in"))
        }
    }

    @Test func removingALoginAsksFirstAndOffersItsScopes() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let path = try await Self.start(browser, bridge: "demo-workspace", flow: "email")
            let page = try await browser.get(path)
            _ = try await browser.post(
                try #require(Self.action(in: page)),
                form: [("csrf", try #require(page.hidden("csrf"))), ("field.email", "dana@example.com"), ("field.password", "pw")])
            let confirm = try await browser.get("/accounts/demo-workspace/dana%40example.com/remove")
            #expect(confirm.status == 200)
            #expect(confirm.body.contains("Remove Dana from Demo Workspace?"))
            #expect(confirm.body.contains("the accounts it holds"))
            #expect(confirm.body.contains("<legend>How to remove it</legend>"))
            let login = try await harness.service.login(bridgeID: "demo-workspace", loginID: "dana@example.com", for: PageHarness.owner).login
            for scope in login.removeScopes {
                #expect(confirm.body.contains("value=\"\(scope.rawValue)\""))
            }
            let csrf = try #require(confirm.hidden("csrf"))
            let removed = try await browser.post(
                "/accounts/demo-workspace/dana%40example.com/remove", form: [("csrf", csrf), ("scope", login.removeScopes[0].rawValue)])
            #expect(removed.status == 303)
            #expect(removed.location == "/")
            let overview = try await browser.get("/")
            #expect(overview.body.contains("Removed Dana from Demo Workspace."))
            #expect(try await harness.service.logins(bridgeID: "demo-workspace", for: PageHarness.owner).logins.isEmpty)
        }
    }
}
