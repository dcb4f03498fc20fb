import BridgesCore
import Foundation

/// A page of the demo's own web pages, ready for the server to send.
public struct DemoPage: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(name: String, value: String)]
    public var body: String
    /// A cookie the page sets; the server writes its header.
    public var cookie: DemoCookie? = nil
}

/// A session cookie scoped to the demo's pages.
public struct DemoCookie: Sendable, Hashable {
    public var name: String
    public var value: String
    public var path: String
}

/// The pages the demo networks send people to: QR and approval links, the emoji image, and the
/// cookie sign-in. They need no token: a phone or a browser opens them.
public struct DemoPages: Sendable {
    /// The cookie the sign-in page sets and the signed-in page reads back.
    public static let sessionCookie = "demo_session"
    public static let cookiesSignInPath = "/demo/cookies/sign-in"
    public static let cookiesSignedInPath = "/demo/cookies/signed-in"

    let environment: DemoEnvironment

    public init(environment: DemoEnvironment) {
        self.environment = environment
    }

    /// A QR payload or approval link was opened: the demo's stand-in for a phone that scanned it.
    public func approve(_ token: String) async -> DemoPage {
        if await environment.approvals.approve(token) {
            return Self.html(title: "Signed in", body: "<h1>Done</h1><p>The demo login is approved. Return to your app.</p>")
        }
        var page = Self.html(
            title: "Expired", body: "<h1>This code has expired</h1><p>Show a fresh code in your app and try again.</p>")
        page.status = 410
        return page
    }

    public func emoji() -> DemoPage {
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">\
            <text x="64" y="96" font-size="96" text-anchor="middle">🦊</text></svg>
            """
        return DemoPage(status: 200, contentType: "image/svg+xml", headers: [], body: svg)
    }

    public func signInForm() -> DemoPage {
        Self.html(title: "Demo Cookies: sign in", body: signInFormBody)
    }

    private var signInFormBody: String {
        """
        <h1>Demo Cookies</h1>
        <form method="post" action="\(Self.cookiesSignInPath)">
          <label>Name <input name="name" value="alice" autofocus></label>
          <button type="submit">Sign in</button>
        </form>
        """
    }

    public func signIn(name: String) -> DemoPage {
        let user = DemoLoginContext.slug(name.isEmpty ? "alice" : name)
        let session = "\(user).\(Identifiers.make(prefix: "", length: 16))"
        return DemoPage(
            status: 303, contentType: "text/plain; charset=utf-8",
            headers: [("Location", Self.cookiesSignedInPath)], body: "Signed in; continue at \(Self.cookiesSignedInPath)",
            cookie: DemoCookie(name: Self.sessionCookie, value: session, path: "/demo"))
    }

    public func signedIn(session: String?) -> DemoPage {
        guard let session, !session.isEmpty else {
            var page = Self.html(title: "Not signed in", body: "<p>Not signed in. <a href=\"\(Self.cookiesSignInPath)\">Sign in</a>.</p>")
            page.status = 401
            return page
        }
        let csrf = "csrf-" + Identifiers.make(prefix: "", length: 12)
        let token = "tok-" + Identifiers.make(prefix: "", length: 12)
        var page = Self.html(
            title: "Signed in",
            body: """
                <h1>Signed in</h1>
                <p>Give these to your app:</p>
                <ul>
                  <li>cookie <code>demo_session</code>: <code>\(Self.escape(session))</code></li>
                  <li>header <code>X-Demo-CSRF</code>: <code>\(csrf)</code></li>
                  <li>localStorage <code>demo_token</code>: <code>\(token)</code></li>
                </ul>
                <script>localStorage.setItem("demo_token", "\(token)")</script>
                """)
        page.headers.append(("X-Demo-CSRF", csrf))
        return page
    }

    static func html(title: String, body: String) -> DemoPage {
        DemoPage(
            status: 200, contentType: "text/html; charset=utf-8", headers: [],
            body: """
                <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
                <meta name="viewport" content="width=device-width"></head><body>\(body)</body></html>
                """)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
