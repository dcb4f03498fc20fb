import Synchronization

/// Turns what the service learns about bridges and logins into events: it remembers what
/// subscribers were last told about each bridge and publishes only what differs, so a change
/// seen twice (once where it happened, once by a refresh) is announced once.
final class ChangeFeed: Sendable {
    private struct Known {
        /// `nil` until the bridge's logins were read once.
        var logins: [String: Login]?
        var view: BridgeView?
    }

    private let bus: any EventBus
    private let known = Mutex<[String: Known]>([:])

    init(bus: any EventBus) {
        self.bus = bus
    }

    /// Remembers a bridge's state without announcing it: what subscribers can read at startup.
    func seed(_ view: BridgeView, logins: [Login]?) {
        known.withLock { known in
            known[view.descriptor.id] = Known(logins: logins.map(Self.byID), view: view)
        }
    }

    /// Announces what changed on a bridge since it was last seeded or announced. Logins that
    /// could not be read (`nil`) leave the known logins as they were.
    func update(_ view: BridgeView, logins: [Login]?) {
        let events: [BridgeEvent] = known.withLock { known in
            let bridgeID = view.descriptor.id
            var entry = known[bridgeID] ?? Known()
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
            known[bridgeID] = entry
            return events
        }
        for event in events { bus.publish(event) }
    }

    private static func byID(_ logins: [Login]) -> [String: Login] {
        Dictionary(logins.map { ($0.loginID, $0) }, uniquingKeysWith: { _, last in last })
    }
}
