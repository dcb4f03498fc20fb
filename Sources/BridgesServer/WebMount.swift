import BridgesCore
import BridgesStore
import BridgesWeb
import Foundation
import Hummingbird
import Logging

/// How the web page signs people in on this server.
extension PageSignIn {
    /// The user every access token acts for until tokens name their own users.
    static let tokenOwner = UserID("@owner:localhost")

    /// Access tokens as the API takes them; each page session remembers its token's ID, so
    /// revoking the token ends the page session on its next request. The environment token has
    /// no record, and the ID `environment`.
    static func accessTokens(_ tokens: AccessTokens, store: any TokenStore) -> PageSignIn {
        PageSignIn(
            token: { secret in
                guard let owner = tokenOwner, await tokens.isValid(secret) else { return nil }
                let record = try? await store.token(secretHash: AccessTokens.hash(secret))
                return PageIdentity(user: owner, tokenID: record?.id ?? environmentTokenID)
            },
            isStillValid: { identity in
                if identity.tokenID == environmentTokenID { return true }
                return (try? await store.tokens().contains { $0.id == identity.tokenID }) ?? false
            },
            password: nil)
    }

    static let environmentTokenID = "environment"
}
