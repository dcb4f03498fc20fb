import BridgesAPI
import BridgesCore

/// The sign-in extension (`/_bridges/v1/...`).
extension APIHandler {
    func signIn(_ input: Operations.SignIn.Input) async throws -> Operations.SignIn.Output {
        throw BridgesError.signInNotConfigured
    }

    func signOut(_ input: Operations.SignOut.Input) async throws -> Operations.SignOut.Output {
        throw BridgesError.signInNotConfigured
    }

    func whoAmI(_ input: Operations.WhoAmI.Input) async throws -> Operations.WhoAmI.Output {
        throw BridgesError.signInNotConfigured
    }
}
