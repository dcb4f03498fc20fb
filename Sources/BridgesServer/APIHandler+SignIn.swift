import BridgesAPI
import BridgesCore
import BridgesStore

/// The sign-in extension (`/_bridges/v1/...`).
extension APIHandler {
    func signIn(_ input: Operations.SignIn.Input) async throws -> Operations.SignIn.Output {
        guard let matrix else { throw BridgesError.signInNotConfigured }
        guard case .json(let body) = input.body else { throw BridgesError.missingBody }
        let claimed = try body.userID.map { text in
            guard let user = UserID(text) else {
                throw BridgesError.invalidSignIn("'\(text)' is not a Matrix user ID; one looks like @alice:example.com.")
            }
            return user
        }
        let proof: MatrixSignIn.Proof
        switch (body.password, body.matrixAccessToken) {
        case (let password?, nil):
            guard let claimed else { throw BridgesError.invalidSignIn("Signing in with a password needs userID.") }
            guard !password.isEmpty else { throw BridgesError.invalidSignIn("The password is empty.") }
            proof = .password(user: claimed, password: password)
        case (nil, let token?):
            guard !token.isEmpty else { throw BridgesError.invalidSignIn("matrixAccessToken is empty.") }
            proof = .matrixToken(token, claimedUser: claimed)
        case (.some, .some):
            throw BridgesError.invalidSignIn("Send either password or matrixAccessToken, not both.")
        case (nil, nil):
            throw BridgesError.invalidSignIn("Send userID and password, or matrixAccessToken.")
        }
        let (record, secret) = try await matrix.signIn(proof, tokenName: body.tokenName, from: RequestCaller.address)
        return .ok(.init(body: .json(.init(accessToken: secret, tokenID: record.id, userID: record.userID.rawValue))))
    }

    func signOut(_ input: Operations.SignOut.Input) async throws -> Operations.SignOut.Output {
        let grant = try RequestCaller.required()
        guard grant.tokenID != AccessTokens.environmentTokenID else { throw BridgesError.environmentTokenNotRevocable }
        _ = try await tokens.revoke(id: grant.tokenID)
        return .noContent(.init())
    }

    func whoAmI(_ input: Operations.WhoAmI.Input) async throws -> Operations.WhoAmI.Output {
        let grant = try RequestCaller.required()
        return .ok(
            .init(body: .json(.init(userID: grant.userID.rawValue, tokenID: grant.tokenID, matrixSignIn: matrix != nil))))
    }
}
