import BridgesCore
import BridgesStore
import BridgesWeb
import Foundation

/// How the web page signs people in on this server: with an access token, as the API takes
/// them, or with a Matrix ID and password when Matrix sign-in is configured.
extension PageSignIn {
    /// Each page session remembers its token's ID, so revoking the token ends the page session
    /// on its next request. The environment token has no record, and the ID `environment`.
    static func server(tokens: AccessTokens, users: any UserStore, matrix: MatrixSignIn?) -> PageSignIn {
        var password: (@Sendable (_ userID: String, _ password: String) async throws(PasswordSignInFailure) -> PageIdentity)?
        if let matrix {
            password = { @Sendable userID, secret throws(PasswordSignInFailure) in
                try await signIn(with: matrix, userID: userID, password: secret)
            }
        }
        return PageSignIn(
            token: { secret in
                guard let grant = await tokens.grant(for: secret) else { return nil }
                return PageIdentity(user: grant.userID, tokenID: grant.tokenID)
            },
            isStillValid: { identity in
                if identity.tokenID == AccessTokens.environmentTokenID { return true }
                return (try? await users.tokens().contains { $0.id == identity.tokenID }) ?? false
            },
            password: password)
    }

    /// A page signed in with a password gets a token of its own (`bridges token list` shows it
    /// as "web page"), so it ends like any other when the token is revoked.
    private static func signIn(
        with matrix: MatrixSignIn, userID: String, password: String
    ) async throws(PasswordSignInFailure) -> PageIdentity {
        guard let user = UserID(userID.trimmingCharacters(in: .whitespaces)) else { throw .rejected }
        do {
            let (record, _) = try await matrix.signIn(
                .password(user: user, password: password), tokenName: "web page", from: RequestCaller.address)
            return PageIdentity(user: record.userID, tokenID: record.id)
        } catch let error as BridgesError where error.kind == .unauthorized {
            throw .rejected
        } catch let error as BridgesError where error.kind == .forbidden || error.kind == .tooManyRequests {
            throw .notAllowed(error.message)
        } catch let error as BridgesError {
            throw .unavailable(error.message)
        } catch {
            throw .unavailable("Signing in failed: \(error).")
        }
    }
}
