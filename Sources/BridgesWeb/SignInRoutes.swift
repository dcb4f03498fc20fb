import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The sign-in page: an access token always, a Matrix ID and password when the server offers
/// it. Signing in makes a page session; the browser gets only its random ID, in a cookie.
struct SignInView {
    var next: String
    var nonce: String
    var notice: String?
    var error: String?
    var passwordSignIn: Bool
    var matrixUser: String?
}

extension WebPage {
    func signInPage(_ request: Request) async throws -> Response {
        let next = PagePath.safeNext(request.uri.queryParameters["next"].map(String.init))
        if await currentSession(request) != nil { return Self.redirect(to: next) }
        let notice: String? =
            switch request.uri.queryParameters["ended"] {
            case "signout": "You signed out."
            case "expired": "Your session on this page ended. Sign in again to go on."
            default: nil
            }
        return try signInForm(request, next: next, notice: notice, error: nil, status: .ok)
    }

    func signInPost(_ request: Request) async throws -> Response {
        guard security.isSameOrigin(request) else { return try refused() }
        let form = try await FormBody.read(request, limit: 64 * 1024)
        let next = PagePath.safeNext(form["next"])
        // The form repeats the value its page set in a cookie: a form another site makes cannot,
        // so nobody is signed in to someone else's session without knowing it.
        guard let nonce = form["nonce"], let expected = request.cookies[PageSecurity.signInCookie]?.value,
            PageSecrets.equal(nonce, expected)
        else {
            return try signInForm(
                request, next: next, notice: nil, error: "The sign-in form was out of date. Please sign in again.",
                status: .badRequest)
        }
        let identity: PageIdentity
        switch form["method"] {
        case "password":
            let user = (form["user"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard let passwordSignIn = signIn.password else {
                return try signInForm(
                    request, next: next, notice: nil, error: "This server does not offer Matrix sign-in. Use an access token.",
                    status: .badRequest)
            }
            guard !user.isEmpty, let password = form["password"], !password.isEmpty else {
                return try signInForm(
                    request, next: next, notice: nil, error: "Enter your Matrix ID and your password.", matrixUser: user,
                    status: .badRequest)
            }
            do {
                identity = try await passwordSignIn(user, password)
            } catch .rejected {
                return try signInForm(
                    request, next: next, notice: nil, error: "That Matrix ID or password is not right. Check them and try again.",
                    matrixUser: user, status: .unauthorized)
            } catch .notAllowed(let reason) {
                return try signInForm(request, next: next, notice: nil, error: reason, matrixUser: user, status: .forbidden)
            } catch .unavailable(let reason) {
                return try signInForm(
                    request, next: next, notice: nil,
                    error: "Your homeserver could not be asked (\(reason)). Try again in a moment.", matrixUser: user,
                    status: .badGateway)
            }
        default:
            let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                return try signInForm(request, next: next, notice: nil, error: "Enter an access token.", status: .badRequest)
            }
            guard let found = await signIn.token(token) else {
                return try signInForm(
                    request, next: next, notice: nil,
                    error: "That access token is not valid. It may have been revoked; create a new one with “bridges token create”.",
                    status: .unauthorized)
            }
            identity = found
        }
        // A new ID at every sign-in: an ID someone planted before is never the one signed in.
        if let old = request.cookies[PageSecurity.sessionCookie]?.value { await sessions.end(old) }
        let session = await sessions.create(for: identity)
        var response = Self.redirect(to: next)
        response.setCookie(security.sessionCookie(session.id, for: request))
        response.setCookie(security.expired(PageSecurity.signInCookie, path: "/signin", for: request))
        logger.info("signed in to the web page", metadata: ["user": "\(identity.user)"])
        return response
    }

    func signOut(_ request: Request) async throws -> Response {
        guard security.isSameOrigin(request) else { return try refused() }
        if let id = request.cookies[PageSecurity.sessionCookie]?.value, let session = await sessions.session(id) {
            let form = try await FormBody.read(request)
            guard let token = form["csrf"], PageSecrets.equal(token, session.csrfToken) else { return try refused() }
            await sessions.end(id)
        }
        var response = Self.redirect(to: "/signin?ended=signout")
        response.setCookie(security.expired(PageSecurity.sessionCookie, path: "/", for: request))
        return response
    }

    private func signInForm(
        _ request: Request, next: String, notice: String?, error: String?, matrixUser: String? = nil,
        status: HTTPResponse.Status
    ) throws -> Response {
        let nonce = PageSecrets.random()
        let view = SignInView(
            next: next, nonce: nonce, notice: notice, error: error, passwordSignIn: signIn.password != nil,
            matrixUser: matrixUser)
        var response = try renderer.page("signin", view, layout: LayoutView(title: "Sign in"), status: status)
        response.setCookie(security.signInCookie(nonce, for: request))
        return response
    }
}
