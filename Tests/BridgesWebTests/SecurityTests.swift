import BridgesCore
import BridgesWeb
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(2))) struct SecurityTests {
    @Test func everyPageForbidsFramingAndInlineScript() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            let signedOut = try await browser.get("/signin")
            try await browser.signIn()
            for response in [signedOut, try await browser.get("/"), try await browser.get("/connect/demo-messenger")] {
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("script-src 'self'"))
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(policy.contains("default-src 'none'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(!response.body.contains("<script>"))
                #expect(!response.body.contains(" style=\""))
                #expect(!response.body.contains(" onclick="))
            }
            let script = try await browser.get("/assets/page.js")
            #expect(script.status == 200)
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
        }
    }

    @Test func aCrossSiteFormPostIsRefusedAndChangesNothing() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let csrf = try await browser.csrf()
            let form = [("csrf", csrf), ("flow", "password")]
            // Even with the right token, another origin's form is refused.
            let crossOrigin = try await browser.post("/connect/demo-password", form: form, origin: "http://evil.example")
            #expect(crossOrigin.status == 403)
            #expect(crossOrigin.body.contains("Request refused"))
            let otherPort = try await browser.post("/connect/demo-password", form: form, origin: "http://localhost:8081")
            #expect(otherPort.status == 403)
            let nullOrigin = try await browser.post("/connect/demo-password", form: form, origin: "null")
            #expect(nullOrigin.status == 403)
            let sameSite = try await browser.post(
                "/connect/demo-password", form: form, origin: nil, headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-site"])
            #expect(sameSite.status == 403)
            let noToken = try await browser.post("/connect/demo-password", form: [("flow", "password")])
            #expect(noToken.status == 403)
            let wrongToken = try await browser.post("/connect/demo-password", form: [("csrf", "x" + csrf), ("flow", "password")])
            #expect(wrongToken.status == 403)
            let ownPage = try await browser.post("/connect/demo-password", form: form)
            #expect(ownPage.status == 303)
            #expect(ownPage.location?.hasPrefix("/connect/demo-password/ls_") == true)
        }
    }

    @Test func theSignInRedirectGoesOnlyToThisServer() async throws {
        try await PageHarness.run { harness in
            for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
                let response = try await TestBrowser(harness).signIn(next: next)
                #expect(response.location == "/")
            }
        }
    }

    @Test func theEventsSocketTakesThePageCookieOnlyFromThePagesOwnOrigin() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            let cookie = "bridges_page=\(try #require(browser.cookie("bridges_page")))"
            func request(_ headers: HTTPFields) -> Request {
                Request(
                    head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1:23373", path: "/v1/ws", headerFields: headers),
                    body: RequestBody(buffer: ByteBuffer()))
            }
            let own = await harness.page.user(for: request([.cookie: cookie, .origin: "http://127.0.0.1:23373"]))
            #expect(own == PageHarness.owner)
            #expect(await harness.page.user(for: request([.cookie: cookie, .origin: "http://evil.example"])) == nil)
            #expect(await harness.page.user(for: request([.cookie: cookie, .origin: "http://127.0.0.1:8080"])) == nil)
            #expect(await harness.page.user(for: request([.cookie: cookie, .origin: "ws://127.0.0.1, http://127.0.0.1:23373"])) == nil)
            // Without an Origin it is not a page's socket; programs bring a token.
            #expect(await harness.page.user(for: request([.cookie: cookie])) == nil)
            #expect(await harness.page.user(for: request([.origin: "http://127.0.0.1:23373"])) == nil)
        }
    }

    @Test func anUnknownSessionOrBridgeIsAPageNotJSON() async throws {
        try await PageHarness.run { harness in
            let browser = TestBrowser(harness)
            try await browser.signIn()
            for path in ["/connect/demo-password/ls_nothing", "/connect/no-such-bridge", "/assets/nothing.js"] {
                let response = try await browser.get(path)
                #expect(response.status == 404)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.body.contains("Back to all networks"))
                #expect(!response.body.contains("\"code\""))
            }
        }
    }
}
