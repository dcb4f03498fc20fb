import BridgesCore
import Foundation

/// What sets one demo network apart; `DemoConnector` does the bookkeeping they share.
protocol DemoNetwork: Sendable {
    var descriptor: BridgeDescriptor { get }
    var flows: [LoginFlow] { get }
    var capabilities: JSONValue { get }
    func start(flowID: String, login: DemoLoginContext) async throws -> StartedLogin
}

/// An in-process connector for a demo network. Its logins live in the store, so they survive
/// a restart like a real bridge's would.
final class DemoConnector: ReconnectSimulating {
    let network: any DemoNetwork
    let environment: DemoEnvironment

    init(network: any DemoNetwork, environment: DemoEnvironment) {
        self.network = network
        self.environment = environment
    }

    var bridgeID: String { network.descriptor.id }

    /// Its logins live in memory (``DemoLogins``), so listings need no deadline for it.
    var answersAtOnce: Bool { true }

    func describe(for user: UserID) async -> BridgeDescriptor { network.descriptor }

    func loginFlows(for user: UserID) async throws -> [LoginFlow] { network.flows }

    func capabilities(for user: UserID) async throws -> JSONValue { network.capabilities }

    func logins(for user: UserID) async throws -> [Login] {
        try await environment.logins.logins(bridgeID: bridgeID, user: user)
    }

    func removeLogin(_ loginID: String, scope: RemoveScope, for user: UserID) async throws -> Login? {
        try await environment.logins.remove(loginID: loginID, bridgeID: bridgeID, user: user)
    }

    func requireReconnect(accountID: String, for user: UserID) async throws -> Login? {
        guard var login = try await logins(for: user).first(where: { $0.accounts.contains { $0.accountID == accountID } }) else {
            return nil
        }
        login.status = .needsLogin
        login.statusText = "Signed out by the demo; reconnect to sign in again."
        for index in login.accounts.indices where login.accounts[index].accountID == accountID {
            login.accounts[index].status = .reconnectRequired
            login.accounts[index].statusText = "Credentials expired; reconnect this account."
        }
        try await environment.logins.save(login, bridgeID: bridgeID, user: user)
        return login
    }

    func startLogin(_ request: LoginStart) async throws -> StartedLogin {
        try await network.start(
            flowID: request.flowID,
            login: DemoLoginContext(
                bridge: network.descriptor, owner: request.user, reconnectLoginID: request.reconnectLoginID,
                environment: environment))
    }
}

/// What a demo login process needs to finish: where to record the login it creates.
struct DemoLoginContext: Sendable {
    let bridge: BridgeDescriptor
    /// Whose login it becomes.
    let owner: UserID
    let reconnectLoginID: String?
    let environment: DemoEnvironment

    /// Records the signed-in login (a new one, or the reconnected one made healthy again) and
    /// returns the step that completes the session.
    func complete(loginID proposed: String, user: User, accounts: [(suffix: String, user: User)]? = nil) async throws -> Step {
        let loginID = reconnectLoginID ?? Self.slug(proposed)
        let accountList =
            (accounts ?? [("", user)]).map { entry in
                Account(
                    accountID: entry.suffix.isEmpty ? "\(bridge.id)_\(loginID)" : "\(bridge.id).\(entry.suffix)",
                    status: .connected, user: entry.user, network: bridge.network)
            }
        let login = Login(
            loginID: loginID, status: .connected, user: user, removeScopes: [.currentDevice, .allDevices],
            accounts: accountList)
        try await environment.logins.save(login, bridgeID: bridge.id, user: owner)
        return Step(id: "\(bridge.type).complete", content: .complete(loginID: loginID))
    }

    /// Login IDs end up in URL paths; keep them to a tidy, predictable alphabet.
    static func slug(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-@+")
        let slug = String(text.lowercased().map { allowed.contains($0) ? $0 : "-" })
        return slug.isEmpty ? "user" : slug
    }
}

/// A login process whose steps are plain functions of the submitted values.
struct ScriptedProcess: LoginProcess {
    let onSubmit: @Sendable (StepSubmission, Step) async throws -> Step
    var onWait: @Sendable (Step) async throws -> Step = { step in
        throw BridgesError(.internalError, code: "no_display", message: "Step \(step.id) is not a display step.")
    }
    var onCancel: @Sendable () async -> Void = {}

    func submit(_ submission: StepSubmission, to step: Step) async throws -> Step {
        try await onSubmit(submission, step)
    }

    func waitForNextStep(after step: Step) async throws -> Step {
        try await onWait(step)
    }

    func cancel() async { await onCancel() }
}

/// Capabilities of a typical chat network, so clients have something real to render.
let typicalCapabilities: JSONValue = [
    "group_creation": [
        "group": [
            "type_description": "group chat",
            "name": ["allowed": true, "max_length": 100],
            "topic": ["allowed": true, "max_length": 500],
            "avatar": ["allowed": true],
            "participants": ["allowed": true, "required": true, "min_length": 1],
            "disappear": [
                "allowed": true,
                "settings": ["types": ["", "after_send"], "timers": [86_400_000, 604_800_000]],
            ],
        ]
    ],
    "resolve_identifier": [
        "any_phone": false, "contact_list": true, "create_dm": true, "lookup_email": false,
        "lookup_phone": true, "lookup_username": true, "search": true,
    ],
    "image_pack_import": false,
]
