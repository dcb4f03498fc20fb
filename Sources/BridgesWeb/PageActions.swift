import BridgesCore

/// Every call the page makes to the service, and nothing else: the page has no state or
/// shortcut of its own, so it shows and does exactly what the API does. Each call names the
/// user it acts for, which is the signed-in page session's.
struct PageActions: Sendable {
    let service: BridgesService

    func bridges(for user: UserID) async -> [BridgeView] {
        await service.bridges(for: user)
    }

    func bridge(_ bridgeID: String, for user: UserID) async throws -> BridgeView {
        try await service.bridge(bridgeID, for: user)
    }

    func loginFlows(bridgeID: String, for user: UserID) async throws -> [LoginFlow] {
        try await service.loginFlows(bridgeID: bridgeID, for: user)
    }

    func login(bridgeID: String, loginID: String, for user: UserID) async throws -> (bridge: BridgeDescriptor, login: Login) {
        try await service.login(bridgeID: bridgeID, loginID: loginID, for: user)
    }

    func removeLogin(bridgeID: String, loginID: String, scope: RemoveScope, for user: UserID) async throws -> RemovedLogin {
        try await service.removeLogin(bridgeID: bridgeID, loginID: loginID, scope: scope, for: user)
    }

    func createSession(bridgeID: String, flowID: String?, loginID: String?, for user: UserID) async throws -> LoginSessionView {
        try await service.createSession(bridgeID: bridgeID, flowID: flowID, loginID: loginID, accountID: nil, for: user)
    }

    func session(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        try await service.session(bridgeID: bridgeID, id: id, for: user)
    }

    func submit(
        bridgeID: String, sessionID: String, stepID: String, _ submission: StepSubmission, for user: UserID
    ) async throws -> LoginSessionView {
        try await service.submit(bridgeID: bridgeID, sessionID: sessionID, stepID: stepID, submission, for: user)
    }

    func cancelSession(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        try await service.cancelSession(bridgeID: bridgeID, id: id, for: user)
    }
}
