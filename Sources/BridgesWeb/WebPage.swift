import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The web page to connect accounts: served at `/` and a few page paths beside the API
/// (`/signin`, `/signout`, `/connect/…`, `/accounts/…`, `/assets/…`). It renders on the server
/// through the same service calls as the API, and follows changes on `/v1/ws` like any client.
public struct WebPage: Sendable {
    let actions: PageActions
    let signIn: PageSignIn
    let sessions: PageSessions
    let security: PageSecurity
    let renderer: PageRenderer
    let logger: Logger

    /// `publicURL` is the address the server is published at, when one is configured.
    public init(
        service: BridgesService, signIn: PageSignIn, sessions: PageSessions,
        publicURL: @escaping @Sendable () -> String? = { nil }, logger: Logger
    ) async throws {
        actions = PageActions(service: service)
        self.signIn = signIn
        self.sessions = sessions
        security = PageSecurity(publicURL: publicURL)
        renderer = try await PageRenderer.load()
        self.logger = logger
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        let pages = router.group().add(middleware: PageMiddleware<Context>(renderer: renderer, logger: logger))
        pages.get("/") { request, _ in try await overview(request) }
        pages.get("signin") { request, _ in try await signInPage(request) }
        pages.post("signin") { request, _ in try await signInPost(request) }
        pages.post("signout") { request, _ in try await signOut(request) }
        pages.get("connect/:bridge") { request, context in
            try await connectPage(request, bridgeID: try Self.parameter("bridge", context))
        }
        pages.post("connect/:bridge") { request, context in
            try await startSession(request, bridgeID: try Self.parameter("bridge", context))
        }
        pages.get("connect/:bridge/:session") { request, context in
            try await sessionPage(request, bridgeID: try Self.parameter("bridge", context), sessionID: try Self.parameter("session", context))
        }
        pages.post("connect/:bridge/:session/steps/:step") { request, context in
            try await submitStep(
                request, bridgeID: try Self.parameter("bridge", context), sessionID: try Self.parameter("session", context),
                stepID: try Self.parameter("step", context))
        }
        pages.post("connect/:bridge/:session/curl") { request, context in
            try await fillFromCurl(request, bridgeID: try Self.parameter("bridge", context), sessionID: try Self.parameter("session", context))
        }
        pages.post("connect/:bridge/:session/cancel") { request, context in
            try await cancelSession(request, bridgeID: try Self.parameter("bridge", context), sessionID: try Self.parameter("session", context))
        }
        // A form's answer page, opened again by its address (a reload, a bookmark): the session's page.
        for path in ["connect/:bridge/:session/steps/:step", "connect/:bridge/:session/curl", "connect/:bridge/:session/cancel"] {
            pages.get(RouterPath(path)) { request, context in
                try await signedIn(request) { _ in
                    Self.redirect(
                        to: Self.sessionPath(bridgeID: try Self.parameter("bridge", context), sessionID: try Self.parameter("session", context)))
                }
            }
        }
        pages.get("signout") { request, _ in
            try await signedIn(request) { _ in Self.redirect(to: "/") }
        }
        pages.get("accounts/:bridge/:login/remove") { request, context in
            try await removePage(request, bridgeID: try Self.parameter("bridge", context), loginID: try Self.parameter("login", context))
        }
        pages.post("accounts/:bridge/:login/remove") { request, context in
            try await removeLogin(request, bridgeID: try Self.parameter("bridge", context), loginID: try Self.parameter("login", context))
        }
        pages.get("assets/:file") { _, context in try asset(try context.parameters.require("file")) }
    }

    /// The user a request's page cookie stands for, for the events socket: only when the browser
    /// says the request comes from this server's own page, so another site's script cannot open
    /// a socket with a visitor's cookie.
    public func user(for request: Request) async -> UserID? {
        guard security.isSameOrigin(request, requireOrigin: true) else { return nil }
        return await currentSession(request)?.identity.user
    }

    // MARK: - Sessions

    func currentSession(_ request: Request) async -> PageSession? {
        guard let id = request.cookies[PageSecurity.sessionCookie]?.value, !id.isEmpty,
            let session = await sessions.session(id)
        else { return nil }
        guard await signIn.isStillValid(session.identity) else {
            await sessions.end(id)
            return nil
        }
        return session
    }

    /// Runs `body` for a signed-in browser; anyone else is sent to sign in, and back here after.
    func signedIn(_ request: Request, _ body: (PageSession) async throws -> Response) async throws -> Response {
        guard let session = await currentSession(request) else { return signInRedirect(from: request) }
        return try await body(session)
    }

    /// Runs `body` for a form posted from this server's own signed-in page; anything else is
    /// refused before it is read.
    func signedInForm(_ request: Request, _ body: (PageSession, FormBody) async throws -> Response) async throws -> Response {
        guard security.isSameOrigin(request) else { return try refused() }
        guard let session = await currentSession(request) else { return signInRedirect(from: request) }
        let form = try await FormBody.read(request)
        guard let token = form["csrf"], PageSecrets.equal(token, session.csrfToken) else { return try refused() }
        return try await body(session, form)
    }

    func signInRedirect(from request: Request) -> Response {
        var query: [String] = []
        if request.method == .get, request.uri.path != "/" { query.append("next=" + PagePath.segment(request.uri.path)) }
        // A cookie that no longer opens anything: the session expired or its token was revoked.
        if request.cookies[PageSecurity.sessionCookie] != nil { query.append("ended=expired") }
        return Self.redirect(to: "/signin" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A form from another site, or one whose token does not match: nothing was done.
    func refused() throws -> Response {
        let view = MessageView(
            title: "Request refused",
            text: "This form was sent from another site, or from a page that is out of date, so Bridges did not act on it. Go back to Bridges, reload the page and try again.",
            links: [.init(href: "/", label: "Go to Bridges")])
        return try renderer.page("message", view, layout: LayoutView(title: "Request refused"), status: .forbidden)
    }

    func asset(_ name: String) throws -> Response {
        guard let asset = renderer.assets[name] else { throw HTTPError(.notFound) }
        return Response(
            status: .ok, headers: [.contentType: asset.contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    static func parameter<Context: RequestContext>(_ name: String, _ context: Context) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
