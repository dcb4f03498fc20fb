import BridgesAPI

public typealias SignInResponse = Components.Schemas.SignInResponse
public typealias WhoAmI = Components.Schemas.WhoAmI

/// Bridges' sign-in extension (`/_bridges/v1/…`, not part of Beeper Desktop's API): a person
/// proves who they are to their Matrix homeserver and gets a Bridges access token acting as them.
///
/// ```swift
/// let anonymous = try BridgesClient.withoutAccessToken(baseURL: "https://bridges.example.com")
/// let signedIn = try await anonymous.signIn(userID: "@alice:example.com", password: password)
/// let client = try BridgesClient(accessToken: signedIn.accessToken, baseURL: "https://bridges.example.com")
/// ```
extension BridgesClient {
    /// Signs in with a Matrix user ID and password; the server checks them with the homeserver
    /// and keeps neither. Needs no token.
    ///
    /// - Parameter tokenName: A name for the new token, as `bridges token list` shows it.
    /// - Returns: The new access token (shown only this once), its ID and the user it acts for.
    public func signIn(
        userID: String, password: String, tokenName: String? = nil
    ) async throws(BridgesClientError) -> SignInResponse {
        try await call {
            try await api.signIn(body: .json(.init(userID: userID, password: password, tokenName: tokenName))).ok.body.json
        }
    }

    /// Signs in with the access token of an existing Matrix session, which the server confirms
    /// with the homeserver, leaves open and does not keep. Needs no token.
    public func signIn(
        matrixAccessToken: String, tokenName: String? = nil
    ) async throws(BridgesClientError) -> SignInResponse {
        try await call {
            try await api.signIn(body: .json(.init(matrixAccessToken: matrixAccessToken, tokenName: tokenName))).ok.body.json
        }
    }

    /// Revokes this client's own token; every later call with it answers
    /// ``APIStatusError/Kind/authentication``.
    public func signOut() async throws(BridgesClientError) {
        try await call { _ = try await api.signOut().noContent }
    }

    /// The user this client's token acts for, and whether the server offers signing in.
    public func whoAmI() async throws(BridgesClientError) -> WhoAmI {
        try await call { try await api.whoAmI().ok.body.json }
    }
}
