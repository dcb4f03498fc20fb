/// The seam between the core and one bridge. A connector supplies its bridge's description,
/// flows, capabilities and logins, removes logins and runs login processes; the core owns
/// everything around that (sessions, their state machine, retries, expiry, persistence).
///
/// Every call names the user it acts for: a bridge keeps each user's logins apart, and may
/// describe itself differently to each (a user its permissions refuse sees it disabled).
///
/// Connectors report failures as ``BridgesError`` (`.upstream` when the bridge behind them failed
/// or is unreachable) and end a login with ``LoginFailed``.
public protocol BridgeConnector: Sendable {
    var bridgeID: String { get }

    /// Whether the user may see this bridge at all; a bridge set up for one user serves only them.
    func serves(_ user: UserID) -> Bool

    /// What the bridge is, and whether it can take logins from this user right now.
    func describe(for user: UserID) async -> BridgeDescriptor

    func loginFlows(for user: UserID) async throws -> [LoginFlow]

    /// mautrix bridgev2 provisioning capabilities, snake_case keys, passed to clients as they are.
    func capabilities(for user: UserID) async throws -> JSONValue

    /// The user's logins on the bridge, with their accounts and their state.
    func logins(for user: UserID) async throws -> [Login]

    /// Removes one of the user's logins. Returns the login as it was, or `nil` when the user
    /// has no such login.
    func removeLogin(_ loginID: String, scope: RemoveScope, for user: UserID) async throws -> Login?

    /// Starts a login process and returns it with its first step.
    func startLogin(_ request: LoginStart) async throws -> StartedLogin

    /// Releases what the connector holds (HTTP clients); called once when the server stops.
    func shutdown() async

    /// Whether the bridge's logins change without a request through Bridges (a network drops
    /// an account, credentials expire), so the service must look again while anyone listens.
    var changesOnItsOwn: Bool { get }

    /// Whether the connector answers from memory, never waiting on a network: listings then
    /// need no deadline (and no timer task per request) for it.
    var answersAtOnce: Bool { get }
}

extension BridgeConnector {
    public func shutdown() async {}
    public func serves(_ user: UserID) -> Bool { true }
    public var changesOnItsOwn: Bool { false }
    public var answersAtOnce: Bool { false }
}

public struct LoginStart: Sendable {
    /// Who logs in: the login will be theirs.
    public var user: UserID
    public var flowID: String
    /// The login to re-authenticate, for a reconnect; `nil` adds a new login.
    public var reconnectLoginID: String?
    /// The core's session ID, for connectors that show it (demo pages) or log it.
    public var sessionID: String

    public init(user: UserID, flowID: String, reconnectLoginID: String?, sessionID: String) {
        self.user = user
        self.flowID = flowID
        self.reconnectLoginID = reconnectLoginID
        self.sessionID = sessionID
    }
}

public struct StartedLogin: Sendable {
    public var process: any LoginProcess
    public var firstStep: Step

    public init(process: any LoginProcess, firstStep: Step) {
        self.process = process
        self.firstStep = firstStep
    }
}

/// One running login on a connector. The core calls it one step at a time, never concurrently.
public protocol LoginProcess: Sendable {
    /// Applies a `user_input` or `cookies` step and returns the next step.
    func submit(_ submission: StepSubmission, to step: Step) async throws -> Step

    /// Waits while a `display_and_wait` step is shown and returns the next step: a refreshed
    /// display (say a new QR payload), another step, or `complete`. The core runs this in the
    /// background and cancels the task when the session ends.
    func waitForNextStep(after step: Step) async throws -> Step

    /// Abandons the process; called once when the session is cancelled, expires or fails.
    func cancel() async
}

/// A connector that can put one of its accounts into the state a bridge reports when the
/// account's credentials stopped working, so reconnect flows can be tried (the demo networks).
public protocol ReconnectSimulating: BridgeConnector {
    /// Marks the account's login as needing a new sign-in; returns the changed login, or `nil`
    /// when the user has no such account on this bridge.
    func requireReconnect(accountID: String, for user: UserID) async throws -> Login?
}
