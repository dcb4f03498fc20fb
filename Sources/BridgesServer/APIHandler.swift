import BridgesAPI
import BridgesCore
import Foundation
import OpenAPIRuntime

/// The generated API's implementation: wire types in, domain calls, wire types out. Errors are
/// thrown as they are and become error bodies in ``ErrorMiddleware``.
struct APIHandler: APIProtocol {
    let service: BridgesService
    let info: @Sendable () -> Components.Schemas.Info
    let spec: String

    func getInfo(_ input: Operations.GetInfo.Input) async throws -> Operations.GetInfo.Output {
        .ok(.init(body: .json(info())))
    }

    func getSpec(_ input: Operations.GetSpec.Input) async throws -> Operations.GetSpec.Output {
        .ok(.init(body: .yaml(HTTPBody(spec))))
    }

    func listAccounts(_ input: Operations.ListAccounts.Input) async throws -> Operations.ListAccounts.Output {
        .ok(.init(body: .json(await service.accounts().map(Wire.account))))
    }

    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        .ok(.init(body: .json(Wire.account(try await service.account(input.path.accountID)))))
    }

    func listBridges(_ input: Operations.ListBridges.Input) async throws -> Operations.ListBridges.Output {
        .ok(.init(body: .json(.init(items: await service.bridges().map(Wire.bridge)))))
    }

    func getBridge(_ input: Operations.GetBridge.Input) async throws -> Operations.GetBridge.Output {
        .ok(.init(body: .json(Wire.bridge(try await service.bridge(input.path.bridgeID)))))
    }

    func getBridgeCapabilities(
        _ input: Operations.GetBridgeCapabilities.Input
    ) async throws -> Operations.GetBridgeCapabilities.Output {
        let capabilities = try await service.capabilities(bridgeID: input.path.bridgeID)
        do {
            return .ok(.init(body: .json(try Wire.convert(capabilities))))
        } catch {
            throw BridgesError.upstream(
                "Bridge '\(input.path.bridgeID)' answered capabilities that do not fit the contract.",
                code: "invalid_capabilities")
        }
    }

    func listLoginFlows(_ input: Operations.ListLoginFlows.Input) async throws -> Operations.ListLoginFlows.Output {
        let flows = try await service.loginFlows(bridgeID: input.path.bridgeID)
        return .ok(.init(body: .json(.init(items: flows.map(Wire.flow)))))
    }

    func listLogins(_ input: Operations.ListLogins.Input) async throws -> Operations.ListLogins.Output {
        let (bridge, logins) = try await service.logins(bridgeID: input.path.bridgeID)
        return .ok(.init(body: .json(.init(items: logins.map { Wire.login($0, bridgeID: bridge.id) }))))
    }

    func getLogin(_ input: Operations.GetLogin.Input) async throws -> Operations.GetLogin.Output {
        let (bridge, login) = try await service.login(bridgeID: input.path.bridgeID, loginID: input.path.loginID)
        return .ok(.init(body: .json(Wire.login(login, bridgeID: bridge.id))))
    }

    func removeLogin(_ input: Operations.RemoveLogin.Input) async throws -> Operations.RemoveLogin.Output {
        guard case .json(let body) = input.body else { throw APIHandler.missingBody }
        let removed = try await service.removeLogin(
            bridgeID: input.path.bridgeID, loginID: input.path.loginID, scope: Wire.removeScope(body.scope))
        return .ok(.init(body: .json(Wire.removal(removed))))
    }

    func createLoginSession(
        _ input: Operations.CreateLoginSession.Input
    ) async throws -> Operations.CreateLoginSession.Output {
        var request = Components.Schemas.LoginSessionCreateRequest()
        if case .json(let body) = input.body { request = body }
        let view = try await service.createSession(
            bridgeID: input.path.bridgeID, flowID: request.flowID, loginID: request.loginID, accountID: request.accountID)
        return .ok(.init(body: .json(Wire.session(view))))
    }

    func getLoginSession(_ input: Operations.GetLoginSession.Input) async throws -> Operations.GetLoginSession.Output {
        let view = try await service.session(bridgeID: input.path.bridgeID, id: input.path.loginSessionID)
        return .ok(.init(body: .json(Wire.session(view))))
    }

    func cancelLoginSession(
        _ input: Operations.CancelLoginSession.Input
    ) async throws -> Operations.CancelLoginSession.Output {
        let view = try await service.cancelSession(bridgeID: input.path.bridgeID, id: input.path.loginSessionID)
        guard view.session.status == .cancelled else {
            throw BridgesError(
                .conflict, code: "login_session_finished",
                message: "This login session is already \(view.session.status.rawValue); it cannot be cancelled.",
                details: ["status": .string(view.session.status.rawValue)])
        }
        return .ok(.init(body: .json(.init(bridgeID: view.bridge.id, loginSessionID: view.session.id, status: .cancelled))))
    }

    func submitLoginStep(_ input: Operations.SubmitLoginStep.Input) async throws -> Operations.SubmitLoginStep.Output {
        guard case .json(let body) = input.body else { throw APIHandler.missingBody }
        let view = try await service.submit(
            bridgeID: input.path.bridgeID, sessionID: input.path.loginSessionID, stepID: input.path.stepID,
            Wire.submission(body))
        return .ok(.init(body: .json(Wire.session(view))))
    }

    private static let missingBody = BridgesError(.badRequest, code: "missing_body", message: "This request needs a JSON body.")
}
