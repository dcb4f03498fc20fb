import BridgesAPI
import BridgesCore
import Foundation
import OpenAPIRuntime

/// The generated API's implementation: wire types in, domain calls, wire types out. Errors are
/// thrown as they are and become error bodies in ``ErrorMiddleware``.
struct APIHandler: APIProtocol {
    let service: BridgesService
    let tokens: AccessTokens
    /// Set when the server offers sign-in with a Matrix account.
    let matrix: MatrixSignIn?
    let info: @Sendable () -> Components.Schemas.Info
    let spec: String

    /// Whom the operation acts for, as authentication resolved it.
    private func user() throws -> UserID { try RequestCaller.user() }

    func getInfo(_ input: Operations.GetInfo.Input) async throws -> Operations.GetInfo.Output {
        .ok(.init(body: .json(info())))
    }

    func getSpec(_ input: Operations.GetSpec.Input) async throws -> Operations.GetSpec.Output {
        .ok(.init(body: .yaml(HTTPBody(spec))))
    }

    /// Reached only without the upgrade headers: `/v1/ws` upgrades are taken by ``EventsSocket``.
    func getEvents(_ input: Operations.GetEvents.Input) async throws -> Operations.GetEvents.Output {
        .upgradeRequired(
            .init(
                headers: .init(xShouldRetry: ._false),
                body: .json(
                    .init(
                        message: "/v1/ws takes only a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket).",
                        code: "upgrade_required"))))
    }

    func listAccounts(_ input: Operations.ListAccounts.Input) async throws -> Operations.ListAccounts.Output {
        .ok(.init(body: .json(Wire.accountList(await service.bridges(for: try user())))))
    }

    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        .ok(.init(body: .json(Wire.account(try await service.account(input.path.accountID, for: try user())))))
    }

    func listBridges(_ input: Operations.ListBridges.Input) async throws -> Operations.ListBridges.Output {
        .ok(.init(body: .json(Wire.bridgeList(await service.bridges(for: try user())))))
    }

    func getBridge(_ input: Operations.GetBridge.Input) async throws -> Operations.GetBridge.Output {
        .ok(.init(body: .json(Wire.bridge(try await service.bridge(input.path.bridgeID, for: try user())))))
    }

    func getBridgeCapabilities(
        _ input: Operations.GetBridgeCapabilities.Input
    ) async throws -> Operations.GetBridgeCapabilities.Output {
        let capabilities = try await service.capabilities(bridgeID: input.path.bridgeID, for: try user())
        do {
            return .ok(.init(body: .json(try Wire.convert(capabilities))))
        } catch {
            throw BridgesError.invalidCapabilities(bridgeID: input.path.bridgeID)
        }
    }

    func listLoginFlows(_ input: Operations.ListLoginFlows.Input) async throws -> Operations.ListLoginFlows.Output {
        let flows = try await service.loginFlows(bridgeID: input.path.bridgeID, for: try user())
        return .ok(.init(body: .json(.init(items: flows.map(Wire.flow)))))
    }

    func listLogins(_ input: Operations.ListLogins.Input) async throws -> Operations.ListLogins.Output {
        .ok(.init(body: .json(try await loginList(bridgeID: input.path.bridgeID))))
    }

    func getLogin(_ input: Operations.GetLogin.Input) async throws -> Operations.GetLogin.Output {
        .ok(.init(body: .json(try await login(bridgeID: input.path.bridgeID, loginID: input.path.loginID))))
    }

    func removeLogin(_ input: Operations.RemoveLogin.Input) async throws -> Operations.RemoveLogin.Output {
        guard case .json(let body) = input.body else { throw BridgesError.missingBody }
        return .ok(.init(body: .json(try await remove(bridgeID: input.path.bridgeID, loginID: input.path.loginID, body))))
    }

    // The connections era's paths: the same answers under the names its clients call.

    func listConnections(_ input: Operations.ListConnections.Input) async throws -> Operations.ListConnections.Output {
        .ok(.init(body: .json(try await loginList(bridgeID: input.path.bridgeID))))
    }

    func getConnection(_ input: Operations.GetConnection.Input) async throws -> Operations.GetConnection.Output {
        .ok(.init(body: .json(try await login(bridgeID: input.path.bridgeID, loginID: input.path.loginID))))
    }

    func removeConnection(_ input: Operations.RemoveConnection.Input) async throws -> Operations.RemoveConnection.Output {
        guard case .json(let body) = input.body else { throw BridgesError.missingBody }
        return .ok(.init(body: .json(try await remove(bridgeID: input.path.bridgeID, loginID: input.path.loginID, body))))
    }

    private func loginList(bridgeID: String) async throws -> Components.Schemas.LoginListResponse {
        let (bridge, logins) = try await service.logins(bridgeID: bridgeID, for: try user())
        return .init(items: logins.map { Wire.login($0, bridgeID: bridge.id) })
    }

    private func login(bridgeID: String, loginID: String) async throws -> Components.Schemas.BridgeLogin {
        let (bridge, login) = try await service.login(bridgeID: bridgeID, loginID: loginID, for: try user())
        return Wire.login(login, bridgeID: bridge.id)
    }

    private func remove(
        bridgeID: String, loginID: String, _ body: Components.Schemas.LoginRemoveRequest
    ) async throws -> Components.Schemas.LoginRemoveResponse {
        Wire.removal(try await service.removeLogin(bridgeID: bridgeID, loginID: loginID, scope: Wire.removeScope(body.scope), for: try user()))
    }

    func createLoginSession(
        _ input: Operations.CreateLoginSession.Input
    ) async throws -> Operations.CreateLoginSession.Output {
        var request = Components.Schemas.LoginSessionCreateRequest()
        if case .json(let body) = input.body { request = body }
        let view = try await service.createSession(
            bridgeID: input.path.bridgeID, flowID: request.flowID, loginID: request.loginID, accountID: request.accountID,
            for: try user())
        return .ok(.init(body: .json(Wire.session(view))))
    }

    func getLoginSession(_ input: Operations.GetLoginSession.Input) async throws -> Operations.GetLoginSession.Output {
        let view = try await service.session(bridgeID: input.path.bridgeID, id: input.path.loginSessionID, for: try user())
        return .ok(.init(body: .json(Wire.session(view))))
    }

    func cancelLoginSession(
        _ input: Operations.CancelLoginSession.Input
    ) async throws -> Operations.CancelLoginSession.Output {
        let view = try await service.cancelSession(
            bridgeID: input.path.bridgeID, id: input.path.loginSessionID, for: try user())
        return .ok(.init(body: .json(.init(bridgeID: view.bridge.id, loginSessionID: view.session.id, status: .cancelled))))
    }

    func submitLoginStep(_ input: Operations.SubmitLoginStep.Input) async throws -> Operations.SubmitLoginStep.Output {
        guard case .json(let body) = input.body else { throw BridgesError.missingBody }
        let view = try await service.submit(
            bridgeID: input.path.bridgeID, sessionID: input.path.loginSessionID, stepID: input.path.stepID,
            Wire.submission(body), for: try user())
        return .ok(.init(body: .json(Wire.session(view))))
    }
}
