import BridgesAPI
import BridgesCore
import BridgesStore

/// The sign-in extension (`/_bridges/v1/...`).
extension APIHandler {
    func signIn(_ input: Operations.SignIn.Input) async throws -> Operations.SignIn.Output {
        throw BridgesError.signInNotConfigured
    }

    func signOut(_ input: Operations.SignOut.Input) async throws -> Operations.SignOut.Output {
        let grant = try RequestCaller.required()
        guard grant.tokenID != AccessTokens.environmentTokenID else { throw BridgesError.environmentTokenNotRevocable }
        _ = try await tokens.revoke(id: grant.tokenID)
        return .noContent(.init())
    }

    func whoAmI(_ input: Operations.WhoAmI.Input) async throws -> Operations.WhoAmI.Output {
        let grant = try RequestCaller.required()
        return .ok(.init(body: .json(.init(userID: grant.userID.rawValue, tokenID: grant.tokenID, matrixSignIn: false))))
    }
}
