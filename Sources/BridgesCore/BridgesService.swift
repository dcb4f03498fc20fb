import Foundation
import Logging
import Synchronization

/// A login session together with the bridge it runs on, as the API answers it.
public struct LoginSessionView: Sendable {
    public var session: LoginSession
    public var bridge: BridgeDescriptor
}

public struct RemovedLogin: Sendable, Hashable {
    public var bridgeID: String
    public var loginID: String
    public var scope: RemoveScope
    public var affectedAccountIDs: [String]
}

/// The domain: the bridge registry, login sessions, logins and accounts. Knows no HTTP and no SQL.
public final class BridgesService: Sendable {
    public let connectors: [any BridgeConnector]
    private let connectorsByID: [String: any BridgeConnector]
    private let store: any Store
    private let policy: SessionPolicy
    private let sessions = SessionRegistry()
    private let removals = RecentRemovals()
    private let logger: Logger

    /// How long a bridge may take to describe itself in a listing before it is shown as not
    /// answering; one dead bridge must not hold up the list.
    private let listingTimeout: Duration

    public init(
        connectors: [any BridgeConnector], store: any Store, policy: SessionPolicy = SessionPolicy(),
        listingTimeout: Duration = .seconds(3), logger: Logger
    ) {
        self.connectors = connectors
        self.listingTimeout = listingTimeout
        self.connectorsByID = Dictionary(connectors.map { ($0.bridgeID, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.policy = policy
        self.logger = logger
    }

    /// Ends the sessions a previous run left unfinished; call once before serving.
    public func recoverAfterRestart() async throws {
        let failed = try await store.failUnfinishedSessions(with: .serverRestarted(), at: Date())
        if failed > 0 {
            logger.notice("ended login sessions left unfinished by the previous run", metadata: ["count": "\(failed)"])
        }
        _ = try await store.deleteSessions(updatedBefore: Date().addingTimeInterval(-7 * 24 * 3600))
    }

    /// Expires idle sessions and forgets finished ones, until cancelled.
    public func runMaintenance(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            await sessions.sweep(retention: policy.finishedRetention)
            await removals.forget(olderThan: .seconds(600))
            try? await Task.sleep(for: interval)
        }
    }

    /// Stops background work and lets every connector release what it holds.
    public func shutdown() async {
        await sessions.abandonAll()
        for connector in connectors { await connector.shutdown() }
    }

    // MARK: - Bridges

    public func bridges() async -> [BridgeView] {
        await withTaskGroup(of: (Int, BridgeView).self) { group in
            for (index, connector) in connectors.enumerated() {
                group.addTask { (index, await self.boundedView(of: connector)) }
            }
            var views: [(Int, BridgeView)] = []
            for await view in group { views.append(view) }
            return views.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func bridge(_ id: String) async throws -> BridgeView {
        await view(of: try connector(id))
    }

    public func capabilities(bridgeID: String) async throws -> JSONValue {
        try await connector(bridgeID).capabilities()
    }

    public func loginFlows(bridgeID: String) async throws -> [LoginFlow] {
        try await connector(bridgeID).loginFlows()
    }

    // MARK: - Logins and accounts

    public func logins(bridgeID: String) async throws -> (bridge: BridgeDescriptor, logins: [Login]) {
        let connector = try connector(bridgeID)
        async let descriptor = connector.describe()
        let logins = try await connector.logins()
        return (await descriptor, logins)
    }

    public func login(bridgeID: String, loginID: String) async throws -> (bridge: BridgeDescriptor, login: Login) {
        let (bridge, logins) = try await logins(bridgeID: bridgeID)
        guard let login = logins.first(where: { $0.loginID == loginID }) else {
            throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
        }
        return (bridge, login)
    }

    public func removeLogin(bridgeID: String, loginID: String, scope: RemoveScope) async throws -> RemovedLogin {
        let connector = try connector(bridgeID)
        guard let login = try await connector.logins().first(where: { $0.loginID == loginID }) else {
            // An SDK re-sends a remove whose answer it missed; the login is gone, which is what it asked for.
            if let earlier = await removals.removal(bridgeID: bridgeID, loginID: loginID, scope: scope) { return earlier }
            throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
        }
        guard login.removeScopes.contains(scope) else {
            throw BridgesError.validation([
                ValidationIssue(
                    code: "invalid_scope",
                    message: "Login '\(loginID)' cannot be removed with scope '\(scope.rawValue)'; it allows \(login.removeScopes.map(\.rawValue).joined(separator: ", ")).",
                    path: [.key("body"), .key("scope")])
            ])
        }
        let removed = try await connector.removeLogin(loginID, scope: scope) ?? login
        let result = RemovedLogin(
            bridgeID: bridgeID, loginID: loginID, scope: scope, affectedAccountIDs: removed.accounts.map(\.accountID))
        await removals.remember(result)
        logger.info("login removed", metadata: ["bridge": "\(bridgeID)", "login": "\(loginID)"])
        return result
    }

    public func accounts() async -> [AccountView] {
        await bridges().flatMap(\.accounts)
    }

    public func account(_ accountID: String) async throws -> AccountView {
        guard let account = await accounts().first(where: { $0.account.accountID == accountID }) else {
            throw BridgesError.accountNotFound(accountID)
        }
        return account
    }

    // MARK: - Login sessions

    public func createSession(
        bridgeID: String, flowID: String?, loginID: String?, accountID: String?
    ) async throws -> LoginSessionView {
        let connector = try connector(bridgeID)
        let descriptor = await connector.describe()
        if let unavailable = descriptor.unavailable {
            let message = "\(descriptor.displayName) is not available: \(unavailable.reason)"
            if unavailable.status == .temporarilyUnavailable { throw BridgesError.upstream(message, code: "bridge_unavailable") }
            throw BridgesError(.conflict, code: "bridge_\(unavailable.status.rawValue)", message: message)
        }
        let logins = try await connector.logins()
        let target = try reconnectTarget(loginID: loginID, accountID: accountID, in: logins, bridgeID: bridgeID)
        if target == nil, !descriptor.supportsMultipleAccounts, let existing = logins.first {
            throw BridgesError(
                .conflict, code: "account_limit_reached",
                message: "\(descriptor.displayName) allows one account and login '\(existing.loginID)' exists; reconnect it with loginID, or remove it first.",
                details: ["loginID": .string(existing.loginID)])
        }
        let flows = try await connector.loginFlows()
        let flow: LoginFlow
        if let flowID {
            guard let match = flows.first(where: { $0.id == flowID }) else {
                // Like an unknown loginID or accountID in the same body: a reference to nothing.
                throw BridgesError(
                    .notFound, code: "login_flow_not_found",
                    message: "Bridge '\(bridgeID)' has no login flow '\(flowID)'; it has \(flows.map(\.id).joined(separator: ", ")).",
                    details: ["flowIDs": .array(flows.map { .string($0.id) })])
            }
            flow = match
        } else {
            guard let first = flows.first else {
                throw BridgesError(.conflict, code: "no_login_flows", message: "Bridge '\(bridgeID)' offers no login flow.")
            }
            flow = first
        }

        let (onBridge, total) = await sessions.liveCounts(bridgeID: bridgeID)
        if onBridge >= policy.maxLivePerBridge || total >= policy.maxLiveTotal {
            let limit = onBridge >= policy.maxLivePerBridge ? "\(policy.maxLivePerBridge) on this bridge" : "\(policy.maxLiveTotal) in all"
            throw BridgesError(
                .tooManyRequests, code: "too_many_login_sessions",
                message: "Too many login sessions in progress (\(limit)). Finish or cancel one, or wait for idle ones to expire.")
        }
        let id = Identifiers.make(prefix: "ls_")
        var session = LoginSession(
            id: id, bridgeID: bridgeID, flowID: flow.id, loginID: target?.loginID,
            accountID: accountID ?? target?.accounts.first?.accountID, now: Date())
        let started: StartedLogin
        do {
            started = try await connector.startLogin(
                LoginStart(flowID: flow.id, reconnectLoginID: target?.loginID, sessionID: id))
        } catch let failed as LoginFailed {
            session.status = .failed
            session.error = failed.error
            try await store.saveSession(session.record)
            return LoginSessionView(session: session, bridge: descriptor)
        }
        let store = self.store
        let logger = self.logger
        let live = LiveLoginSession(
            session: session, connector: connector, started: started, policy: policy,
            logger: logger.with(session: id)
        ) { record in
            do { try await store.saveSession(record) } catch {
                logger.error("could not save a login session", metadata: ["session": "\(record.id)", "error": "\(error)"])
            }
        }
        await sessions.insert(live, id: id)
        await live.begin(with: started.firstStep)
        logger.info("login session started", metadata: ["session": "\(id)", "bridge": "\(bridgeID)", "flow": "\(flow.id)"])
        return LoginSessionView(session: await live.session, bridge: descriptor)
    }

    public func session(bridgeID: String, id: String) async throws -> LoginSessionView {
        let connector = try connector(bridgeID)
        if let live = await sessions.live(id), await live.session.bridgeID == bridgeID {
            return LoginSessionView(session: await live.touch(), bridge: await connector.describe())
        }
        guard let record = try await store.session(id: id), record.bridgeID == bridgeID else {
            throw BridgesError.sessionNotFound(id, bridgeID: bridgeID)
        }
        var session = LoginSession(record: record)
        if session.status == .complete, let loginID = session.loginID {
            session.login = try? await connector.logins().first { $0.loginID == loginID }
        }
        return LoginSessionView(session: session, bridge: await connector.describe())
    }

    public func cancelSession(bridgeID: String, id: String) async throws -> LoginSessionView {
        let live = try await liveSession(bridgeID: bridgeID, id: id)
        await live.cancel()
        return try await session(bridgeID: bridgeID, id: id)
    }

    public func submit(
        bridgeID: String, sessionID: String, stepID: String, _ submission: StepSubmission
    ) async throws -> LoginSessionView {
        let connector = try connector(bridgeID)
        let live = try await liveSession(bridgeID: bridgeID, id: sessionID)
        let session = try await live.submit(stepID: stepID, submission)
        return LoginSessionView(session: session, bridge: await connector.describe())
    }

    // MARK: - Helpers

    private func connector(_ id: String) throws -> any BridgeConnector {
        guard let connector = connectorsByID[id] else { throw BridgesError.bridgeNotFound(id) }
        return connector
    }

    /// A session that can still take a submit or a cancel; a finished one that only the store
    /// remembers answers as the state machine would: a conflict.
    private func liveSession(bridgeID: String, id: String) async throws -> LiveLoginSession {
        _ = try connector(bridgeID)
        if let live = await sessions.live(id), await live.session.bridgeID == bridgeID { return live }
        guard let record = try await store.session(id: id), record.bridgeID == bridgeID else {
            throw BridgesError.sessionNotFound(id, bridgeID: bridgeID)
        }
        throw BridgesError(
            .conflict, code: "login_session_finished",
            message: "This login session is \(record.status.rawValue); start a new one.",
            details: ["status": .string(record.status.rawValue)])
    }

    private func reconnectTarget(loginID: String?, accountID: String?, in logins: [Login], bridgeID: String) throws -> Login? {
        var target: Login?
        if let loginID {
            guard let login = logins.first(where: { $0.loginID == loginID }) else {
                throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
            }
            target = login
        }
        if let accountID {
            guard let login = logins.first(where: { $0.accounts.contains { $0.accountID == accountID } }) else {
                throw BridgesError.accountNotFound(accountID)
            }
            if let target, target.loginID != login.loginID {
                throw BridgesError.validation([
                    ValidationIssue(
                        code: "mismatch",
                        message: "Account '\(accountID)' belongs to login '\(login.loginID)', not '\(target.loginID)'.",
                        path: [.key("body"), .key("accountID")])
                ])
            }
            target = login
        }
        return target
    }

    /// The view of a bridge, or, when it takes longer than `listingTimeout`, a view that says so.
    private func boundedView(of connector: any BridgeConnector) async -> BridgeView {
        let timeout = listingTimeout
        if let view = await firstOf(timeout: timeout, { await self.view(of: connector) }) { return view }
        let descriptor = BridgeDescriptor(
            id: connector.bridgeID, displayName: connector.bridgeID, type: "unknown", provider: .selfHosted,
            supportsMultipleAccounts: false)
        return BridgeView(
            descriptor: descriptor, status: .temporarilyUnavailable,
            statusText: "The bridge did not answer within \(timeout.components.seconds) seconds.", accounts: [],
            activeAccountCount: 0)
    }

    private func view(of connector: any BridgeConnector) async -> BridgeView {
        let descriptor = await connector.describe()
        let logins: [Login]
        do {
            logins = try await connector.logins()
        } catch {
            let reason = (error as? BridgesError)?.message ?? "\(error)"
            return BridgeView(
                descriptor: descriptor, status: descriptor.unavailable?.status ?? .temporarilyUnavailable,
                statusText: descriptor.unavailable?.reason ?? reason, accounts: [], activeAccountCount: 0)
        }
        let accounts = logins.flatMap { login in
            login.accounts.map { AccountView(bridge: descriptor, loginID: login.loginID, account: $0) }
        }
        let status: BridgeStatus
        var statusText: String?
        if let unavailable = descriptor.unavailable {
            status = unavailable.status
            statusText = unavailable.reason
        } else if !descriptor.supportsMultipleAccounts, !logins.isEmpty {
            status = .connected
            statusText = "An account is connected; reconnect it or remove it to connect another."
        } else {
            status = .available
        }
        return BridgeView(
            descriptor: descriptor, status: status, statusText: statusText, accounts: accounts,
            activeAccountCount: accounts.filter(\.account.status.isActive).count)
    }
}

extension Logger {
    func with(session id: String) -> Logger {
        var logger = self
        logger[metadataKey: "session"] = "\(id)"
        return logger
    }
}

/// The live sessions of this process.
actor SessionRegistry {
    private var sessions: [String: LiveLoginSession] = [:]

    func insert(_ session: LiveLoginSession, id: String) {
        sessions[id] = session
    }

    func live(_ id: String) -> LiveLoginSession? {
        sessions[id]
    }

    /// Unfinished sessions on one bridge, and in all.
    func liveCounts(bridgeID: String) async -> (bridge: Int, total: Int) {
        var onBridge = 0
        var total = 0
        for session in sessions.values where await !session.isFinished {
            total += 1
            if await session.session.bridgeID == bridgeID { onBridge += 1 }
        }
        return (onBridge, total)
    }

    func sweep(retention: Duration) async {
        let now = ContinuousClock.now
        for (id, session) in sessions {
            await session.expireIfIdle(now: now)
            if let finished = await session.finishedAt, now - finished > retention {
                sessions[id] = nil
            }
        }
    }

    func abandonAll() async {
        for session in sessions.values { await session.abandon() }
    }
}

/// Removals answered recently, so that a re-sent remove succeeds instead of answering 404.
actor RecentRemovals {
    private var removals: [String: (RemovedLogin, ContinuousClock.Instant)] = [:]

    private func key(_ bridgeID: String, _ loginID: String) -> String { "\(bridgeID)\u{0}\(loginID)" }

    func remember(_ removal: RemovedLogin) {
        removals[key(removal.bridgeID, removal.loginID)] = (removal, .now)
    }

    func removal(bridgeID: String, loginID: String, scope: RemoveScope) -> RemovedLogin? {
        guard let (removal, _) = removals[key(bridgeID, loginID)], removal.scope == scope else { return nil }
        return removal
    }

    func forget(olderThan age: Duration) {
        let now = ContinuousClock.now
        removals = removals.filter { now - $0.value.1 <= age }
    }
}

public enum Identifiers {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// A random identifier: 20 characters from 36 give about 103 bits.
    public static func make(prefix: String, length: Int = 20) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// The operation's result, or `nil` once `timeout` passes first. The operation is not waited
/// for after that: it finishes in the background (a slow bridge's answer still warms caches).
func firstOf<Value: Sendable>(timeout: Duration, _ operation: @escaping @Sendable () async -> Value) async -> Value? {
    let pending = ResumeOnce<Value?>()
    return await withCheckedContinuation { continuation in
        pending.set(continuation)
        Task { pending.resume(returning: await operation()) }
        Task {
            try? await Task.sleep(for: timeout)
            pending.resume(returning: nil)
        }
    }
}

/// A continuation that the first of several racers resumes; the others find it gone.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(returning value: Value) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
