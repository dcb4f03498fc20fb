import BridgesCore

/// Every call the page makes to the service, and nothing else: the page has no state or
/// shortcut of its own, so it shows and does exactly what the API does. Each call names the
/// user it acts for, which is the signed-in page session's.
struct PageActions: Sendable {
    let service: BridgesService

    func bridges(for user: UserID) async -> [BridgeView] {
        await service.bridges()
    }

    func bridge(_ bridgeID: String, for user: UserID) async throws -> BridgeView {
        try await service.bridge(bridgeID)
    }

    func loginFlows(bridgeID: String, for user: UserID) async throws -> [LoginFlow] {
        try await service.loginFlows(bridgeID: bridgeID)
    }

    func login(bridgeID: String, loginID: String, for user: UserID) async throws -> (bridge: BridgeDescriptor, login: Login) {
        try await service.login(bridgeID: bridgeID, loginID: loginID)
    }

    func removeLogin(bridgeID: String, loginID: String, scope: RemoveScope, for user: UserID) async throws -> RemovedLogin {
        try await service.removeLogin(bridgeID: bridgeID, loginID: loginID, scope: scope)
    }

    func createSession(bridgeID: String, flowID: String?, loginID: String?, for user: UserID) async throws -> LoginSessionView {
        try await service.createSession(bridgeID: bridgeID, flowID: flowID, loginID: loginID, accountID: nil)
    }

    func session(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        try await service.session(bridgeID: bridgeID, id: id)
    }

    func submit(
        bridgeID: String, sessionID: String, stepID: String, _ submission: StepSubmission, for user: UserID
    ) async throws -> LoginSessionView {
        try await service.submit(bridgeID: bridgeID, sessionID: sessionID, stepID: stepID, submission)
    }

    func cancelSession(bridgeID: String, id: String, for user: UserID) async throws -> LoginSessionView {
        try await service.cancelSession(bridgeID: bridgeID, id: id)
    }
}
