import Synchronization

/// Turns what the service learns about bridges and logins into events: it remembers what each
/// user's subscribers were last told about each bridge and publishes only what differs, so a
/// change seen twice (once where it happened, once by a refresh) is announced once.
final class ChangeFeed: Sendable {
    private struct Known {
        /// `nil` until the bridge's logins were read once.
        var logins: [String: Login]?
        var view: BridgeView?
    }

    private let bus: any EventBus
    private struct Key: Hashable {
        var user: UserID
        var bridgeID: String
    }

    private let known = Mutex<[Key: Known]>([:])
    /// Users whose bridges were seeded, so a second subscriber of theirs starts from what is known.
    private let seededUsers = Mutex<Set<UserID>>([])

    init(bus: any EventBus) {
        self.bus = bus
    }

    /// Remembers a bridge's state for a user without announcing it: what they can read when
    /// they subscribe.
    func seed(_ view: BridgeView, logins: [Login]?, for user: UserID) {
        known.withLock { known in
            known[Key(user: user, bridgeID: view.descriptor.id)] = Known(logins: logins.map(Self.byID), view: view)
        }
        seededUsers.withLock { _ = $0.insert(user) }
    }

    func knows(_ user: UserID) -> Bool {
        seededUsers.withLock { $0.contains(user) }
    }

    /// Drops what a user was told, once nobody of theirs listens: a later subscriber starts afresh.
    func forget(_ user: UserID) {
        guard seededUsers.withLock({ $0.remove(user) }) != nil else { return }
        known.withLock { known in known = known.filter { $0.key.user != user } }
    }

    /// Announces what changed on a bridge since it was last seeded or announced. Logins that
    /// could not be read (`nil`) leave the known logins as they were.
    func update(_ view: BridgeView, logins: [Login]?, for user: UserID) {
        let events: [BridgeEvent] = known.withLock { known in
            let bridgeID = view.descriptor.id
            let key = Key(user: user, bridgeID: bridgeID)
            var entry = known[key] ?? Known()
            var events: [BridgeEvent] = []
            if let logins {
                let before = entry.logins ?? [:]
                let after = Self.byID(logins)
                for login in logins where before[login.loginID] != login {
                    events.append(.loginUpserted(bridge: view.descriptor, login: login))
                    let previous = Dictionary(
                        (before[login.loginID]?.accounts ?? []).map { ($0.accountID, $0) }, uniquingKeysWith: { first, _ in first })
                    for account in login.accounts where previous[account.accountID] != account {
                        events.append(.accountUpdated(AccountView(bridge: view.descriptor, loginID: login.loginID, account: account)))
                    }
                }
                for (loginID, login) in before where after[loginID] == nil {
                    events.append(.loginDeleted(bridgeID: bridgeID, loginID: loginID, accountIDs: login.accounts.map(\.accountID)))
                }
                entry.logins = after
            }
            if entry.view != view {
                events.append(.bridgeUpdated(view))
                entry.view = view
            }
            known[key] = entry
            return events
        }
        for event in events { bus.publish(event, to: user) }
    }

    private static func byID(_ logins: [Login]) -> [String: Login] {
        Dictionary(logins.map { ($0.loginID, $0) }, uniquingKeysWith: { _, last in last })
    }
}
