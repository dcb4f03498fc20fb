import BridgesCore

/// Who a page session acts for: the user every call to the service is made for, and the access
/// token the person signed in with, so that revoking that token ends the page session too.
public struct PageIdentity: Sendable, Hashable {
    public var user: UserID
    /// The ID of the access token (never its secret).
    public var tokenID: String

    public init(user: UserID, tokenID: String) {
        self.user = user
        self.tokenID = tokenID
    }
}

/// Why a Matrix sign-in did not work, in words the page can show as they are.
public enum PasswordSignInFailure: Error, Sendable, Hashable {
    /// The user ID or password is wrong.
    case rejected
    /// The homeserver confirmed the user, but this server does not let them in; the text says why.
    case notAllowed(String)
    /// The homeserver could not be asked; the text says what happened.
    case unavailable(String)
}

/// How people sign in to the page. The server supplies these, so the page holds no idea of
/// its own about who may call the API.
public struct PageSignIn: Sendable {
    /// Resolves an access token typed on the sign-in page; `nil` refuses it.
    public var token: @Sendable (String) async -> PageIdentity?
    /// Whether the token behind a page session still works; asked on every signed-in request,
    /// so a revoked token ends the page session at once.
    public var isStillValid: @Sendable (PageIdentity) async -> Bool
    /// Matrix ID and password sign-in; `nil` when the server does not offer it, and then the
    /// page does not show that form.
    public var password: (@Sendable (_ userID: String, _ password: String) async throws(PasswordSignInFailure) -> PageIdentity)?

    public init(
        token: @escaping @Sendable (String) async -> PageIdentity?,
        isStillValid: @escaping @Sendable (PageIdentity) async -> Bool,
        password: (@Sendable (_ userID: String, _ password: String) async throws(PasswordSignInFailure) -> PageIdentity)? = nil
    ) {
        self.token = token
        self.isStillValid = isStillValid
        self.password = password
    }
}
