import Foundation
import Logging

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
    let store: any Store
    let policy: SessionPolicy
    /// What the service measures time with; the server's own timeouts use it too.
    public let clock: AnyClock
    let sessions = SessionRegistry()
    private let removals: RecentRemovals
    let logger: Logger
    /// Every change, for `/v1/ws` and anyone else who listens.
    public let events: any EventBus
    let feed: ChangeFeed

    /// How long a bridge may take to describe itself in a listing before it is shown as not
    /// answering; one dead bridge must not hold up the list.
    private let listingTimeout: Duration

    public init(
        connectors: [any BridgeConnector], store: any Store, policy: SessionPolicy = SessionPolicy(),
        listingTimeout: Duration = .seconds(3), events: any EventBus = LocalEventBus(), clock: AnyClock = .continuous,
        logger: Logger
    ) {
        self.events = events
        self.feed = ChangeFeed(bus: events)
        self.connectors = connectors
        self.listingTimeout = listingTimeout
        self.connectorsByID = Dictionary(connectors.map { ($0.bridgeID, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.policy = policy
        self.clock = clock
        self.removals = RecentRemovals(clock: clock)
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

    /// Expires idle sessions and forgets finished ones and old removals, every `interval`, until cancelled.
    public func runMaintenance(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            await maintain()
            try? await clock.sleep(for: interval)
        }
    }

    /// One round of maintenance, as `runMaintenance` does it on its schedule.
    public func maintain() async {
        await sessions.sweep(now: clock.now, retention: policy.finishedRetention)
        removals.forget(olderThan: .seconds(600))
    }

    /// The user's events from now on. What the user's bridges show now is learned first, so
    /// later events announce only what changes.
    public func subscribe(for user: UserID, capacity: Int) async -> EventSubscription {
        // Subscribed before learning: a change in between is announced (perhaps twice), never lost.
        let subscription = events.subscribe(for: user, capacity: capacity)
        guard !feed.knows(user) else { return subscription }
        await withTaskGroup(of: Void.self) { group in
            for connector in connectors(servingAll: user) {
                group.addTask {
                    let (view, logins) = await self.boundedSnapshot(of: connector, for: user)
                    self.feed.seed(view, logins: logins, for: user)
                }
            }
        }
        return subscription
    }

    /// Looks again, every `interval`, at the bridges whose logins change on their own, for each
    /// user who subscribes, and announces what changed. Runs until cancelled.
    public func runEventRefresh(every interval: Duration) async {
        while !Task.isCancelled {
            try? await clock.sleep(for: interval)
            await withTaskGroup(of: Void.self) { group in
                for user in events.subscribedUsers {
                    for connector in connectors(servingAll: user) where connector.changesOnItsOwn {
                        group.addTask { await self.announceChanges(on: connector, for: user) }
                    }
                }
            }
        }
    }

    /// Publishes what changed on a bridge for a user since they were last told; nothing when
    /// nobody of theirs listens.
    func announceChanges(on connector: any BridgeConnector, for user: UserID) async {
        guard events.hasSubscribers(user) else {
            feed.forget(user)
            return
        }
        let (view, logins) = await boundedSnapshot(of: connector, for: user)
        feed.update(view, logins: logins, for: user)
    }

    /// Ends the user's unfinished sessions in this process, after the user was removed.
    public func endSessions(of user: UserID) async {
        for session in sessions.sessions(of: user) { await session.fail(because: .userRemoved()) }
    }

    /// The users with login sessions in this process.
    public var usersWithSessions: Set<UserID> { sessions.owners }

    /// Stops background work and lets every connector release what it holds.
    public func shutdown() async {
        await sessions.abandonAll()
        for connector in connectors { await connector.shutdown() }
    }

    // MARK: - Bridges

    public func bridges(for user: UserID) async -> [BridgeView] {
        // Bridges that answer from memory are read in place; a task each would cost more than
        // the reading. Those behind a network are asked at once, each within its deadline.
        let visible = connectors(servingAll: user)
        var views = [BridgeView?](repeating: nil, count: visible.count)
        await withTaskGroup(of: (Int, BridgeView).self) { group in
            for (index, connector) in visible.enumerated() where !connector.answersAtOnce {
                group.addTask { (index, await self.boundedSnapshot(of: connector, for: user).view) }
            }
            for (index, connector) in visible.enumerated() where connector.answersAtOnce {
                views[index] = await snapshot(of: connector, for: user).view
            }
            for await (index, view) in group { views[index] = view }
        }
        return views.compactMap { $0 }
    }

    public func bridge(_ id: String, for user: UserID) async throws -> BridgeView {
        await snapshot(of: try connector(id, for: user), for: user).view
    }

    public func capabilities(bridgeID: String, for user: UserID) async throws -> JSONValue {
        try await connector(bridgeID, for: user).capabilities(for: user)
    }

    public func loginFlows(bridgeID: String, for user: UserID) async throws -> [LoginFlow] {
        try await connector(bridgeID, for: user).loginFlows(for: user)
    }

    // MARK: - Logins and accounts

    public func logins(bridgeID: String, for user: UserID) async throws -> (bridge: BridgeDescriptor, logins: [Login]) {
        let connector = try connector(bridgeID, for: user)
        async let descriptor = connector.describe(for: user)
        let logins = try await connector.logins(for: user)
        return (await descriptor, logins)
    }

    public func login(bridgeID: String, loginID: String, for user: UserID) async throws -> (bridge: BridgeDescriptor, login: Login) {
        let (bridge, logins) = try await logins(bridgeID: bridgeID, for: user)
        guard let login = logins.first(where: { $0.loginID == loginID }) else {
            throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
        }
        return (bridge, login)
    }

    public func removeLogin(
        bridgeID: String, loginID: String, scope: RemoveScope, for user: UserID
    ) async throws -> RemovedLogin {
        let connector = try connector(bridgeID, for: user)
        guard let login = try await connector.logins(for: user).first(where: { $0.loginID == loginID }) else {
            // An SDK re-sends a remove whose answer it missed; the login is gone, which is what it asked for.
            if let earlier = removals.removal(bridgeID: bridgeID, loginID: loginID, scope: scope, user: user) {
                return earlier
            }
            throw BridgesError.loginNotFound(loginID, bridgeID: bridgeID)
        }
        guard login.removeScopes.contains(scope) else {
            throw BridgesError.invalidRemoveScope(scope, loginID: loginID, allowed: login.removeScopes)
        }
        let removed = try await connector.removeLogin(loginID, scope: scope, for: user) ?? login
        let result = RemovedLogin(
            bridgeID: bridgeID, loginID: loginID, scope: scope, affectedAccountIDs: removed.accounts.map(\.accountID))
        removals.remember(result, user: user)
        await announceChanges(on: connector, for: user)
        logger.info("login removed", metadata: ["bridge": "\(bridgeID)", "login": "\(loginID)", "user": "\(user)"])
        return result
    }

    public func accounts(for user: UserID) async -> [AccountView] {
        await bridges(for: user).flatMap(\.accounts)
    }

    public func account(_ accountID: String, for user: UserID) async throws -> AccountView {
        guard let account = await accounts(for: user).first(where: { $0.account.accountID == accountID }) else {
            throw BridgesError.accountNotFound(accountID)
        }
        return account
    }

    /// Puts an account into the state its bridge reports when its credentials stopped working,
    /// on the connectors that can simulate that (the demo networks), so reconnect flows can be tried.
    public func requireReconnect(accountID: String, for user: UserID) async throws -> AccountView {
        for case let connector as any ReconnectSimulating in connectors(servingAll: user) {
            if let login = try await connector.requireReconnect(accountID: accountID, for: user),
                let account = login.accounts.first(where: { $0.accountID == accountID })
            {
                await announceChanges(on: connector, for: user)
                return AccountView(bridge: await connector.describe(for: user), loginID: login.loginID, account: account)
            }
        }
        throw BridgesError.accountNotFound(accountID)
    }

    // MARK: - Helpers

    /// The bridge, if the user may see it; one they may not is answered as one that does not exist.
    func connector(_ id: String, for user: UserID) throws -> any BridgeConnector {
        guard let connector = connectorsByID[id], connector.serves(user) else { throw BridgesError.bridgeNotFound(id) }
        return connector
    }

    private func connectors(servingAll user: UserID) -> [any BridgeConnector] {
        connectors.filter { $0.serves(user) }
    }

    /// A bridge's view for a user and the logins it was made from (`nil` when they could not be
    /// read), within `listingTimeout`; past it, a view that says the bridge did not answer.
    private func boundedSnapshot(
        of connector: any BridgeConnector, for user: UserID
    ) async -> (view: BridgeView, logins: [Login]?) {
        if connector.answersAtOnce { return await snapshot(of: connector, for: user) }
        let timeout = listingTimeout
        if let snapshot = await firstOf(timeout: timeout, clock: clock, { await self.snapshot(of: connector, for: user) }) {
            return snapshot
        }
        let descriptor = BridgeDescriptor(
            id: connector.bridgeID, displayName: connector.bridgeID, type: "unknown", provider: .selfHosted,
            supportsMultipleAccounts: false)
        let view = BridgeView(
            descriptor: descriptor, status: .temporarilyUnavailable,
            statusText: "The bridge did not answer within \(Self.seconds(timeout)).", accounts: [],
            activeAccountCount: 0)
        return (view, nil)
    }

    private static func seconds(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return "\(seconds) second\(seconds == 1 ? "" : "s")"
    }

    private func snapshot(of connector: any BridgeConnector, for user: UserID) async -> (view: BridgeView, logins: [Login]?) {
        let descriptor = await connector.describe(for: user)
        let logins: [Login]
        do {
            logins = try await connector.logins(for: user)
        } catch {
            let reason = (error as? BridgesError)?.message ?? "\(error)"
            let view = BridgeView(
                descriptor: descriptor, status: descriptor.unavailable?.status ?? .temporarilyUnavailable,
                statusText: descriptor.unavailable?.reason ?? reason, accounts: [], activeAccountCount: 0)
            return (view, nil)
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
        let view = BridgeView(
            descriptor: descriptor, status: status, statusText: statusText, accounts: accounts,
            activeAccountCount: accounts.filter(\.account.status.isActive).count)
        return (view, logins)
    }
}

extension Logger {
    func with(session id: String) -> Logger {
        var logger = self
        logger[metadataKey: "session"] = "\(id)"
        return logger
    }
}
