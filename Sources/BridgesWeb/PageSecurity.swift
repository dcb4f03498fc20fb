import Foundation
import HTTPTypes
import Hummingbird

/// What keeps the page's session and forms safe: the cookie, the same-origin check on every
/// form and on the events socket, and the headers every page carries.
struct PageSecurity: Sendable {
    static let sessionCookie = "bridges_page"
    /// Holds the random value the sign-in form repeats, before there is a session to tie it to.
    static let signInCookie = "bridges_signin"

    /// The URL the server is published at, when it is configured; its origin counts as this
    /// server's besides whatever `Host` the browser used.
    let publicURL: @Sendable () -> String?

    /// Served over HTTPS: directly, or behind a proxy that terminates TLS and says so.
    func isSecure(_ request: Request) -> Bool {
        if publicURL()?.lowercased().hasPrefix("https://") == true { return true }
        return request.headers[named: "X-Forwarded-Proto"]?.lowercased() == "https"
    }

    /// Whether a browser sent this request from one of this server's own pages. A browser names
    /// the page's origin in `Origin` on every form post and WebSocket; where it does not,
    /// `Sec-Fetch-Site` says the same. A request with neither comes from a program, which cannot
    /// carry a victim's cookie, and still needs the form's token.
    func isSameOrigin(_ request: Request, requireOrigin: Bool = false) -> Bool {
        guard let origin = request.headers[.origin] else {
            if requireOrigin { return false }
            guard let site = request.headers[named: "Sec-Fetch-Site"] else { return true }
            return site == "same-origin" || site == "none"
        }
        guard let url = URL(string: origin), let scheme = url.scheme, let host = url.host else { return false }
        let authority = url.port.map { "\(Self.bracketed(host)):\($0)" } ?? Self.bracketed(host)
        if let requestHost = request.head.authority,
            requestHost.lowercased() == authority.lowercased() || requestHost.lowercased() == Self.withDefaultPort(authority, scheme: scheme)
        {
            return true
        }
        if let published = publicURL().flatMap(URL.init(string:)), let publishedHost = published.host,
            published.scheme?.lowercased() == scheme.lowercased(), publishedHost.lowercased() == host.lowercased(),
            (published.port ?? Self.defaultPort(published.scheme)) == (url.port ?? Self.defaultPort(scheme))
        {
            return true
        }
        return false
    }

    func sessionCookie(_ id: String, for request: Request) -> Cookie {
        Cookie(name: Self.sessionCookie, value: id, path: "/", secure: isSecure(request), httpOnly: true, sameSite: .strict)
    }

    /// Tells the browser to forget a cookie.
    func expired(_ name: String, path: String, for request: Request) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: path, secure: isSecure(request), httpOnly: true, sameSite: .strict)
    }

    func signInCookie(_ value: String, for request: Request) -> Cookie {
        Cookie(name: Self.signInCookie, value: value, maxAge: 3600, path: "/signin", secure: isSecure(request), httpOnly: true, sameSite: .strict)
    }

    /// No inline script or style, nothing from elsewhere but images (a bridge's emoji may live
    /// on its own host), no framing, and forms that post only here.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func apply(to headers: inout HTTPFields, cacheable: Bool) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[named: "X-Frame-Options"] = "DENY"
        headers[.xContentTypeOptions] = "nosniff"
        // The cookies step links to other sites; they learn nothing of this page's addresses.
        // (`no-referrer` would also blank the `Origin` of the page's own forms.)
        headers[named: "Referrer-Policy"] = "same-origin"
        headers[.cacheControl] = cacheable ? "no-cache" : "no-store"
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    private static func defaultPort(_ scheme: String?) -> Int? {
        switch scheme?.lowercased() {
        case "http": 80
        case "https": 443
        default: nil
        }
    }

    /// An origin without a port as a `Host` header may write it, with the scheme's port.
    private static func withDefaultPort(_ authority: String, scheme: String) -> String {
        guard let port = defaultPort(scheme), !authority.contains("]:"), authority.split(separator: ":").count == 1 else {
            return authority.lowercased()
        }
        return "\(authority.lowercased()):\(port)"
    }
}

extension HTTPFields {
    /// A field by a name HTTPTypes has no constant for; names here are literals, always valid.
    subscript(named name: String) -> String? {
        get { HTTPField.Name(name).flatMap { self[$0] } }
        set { if let field = HTTPField.Name(name) { self[field] = newValue } }
    }
}
