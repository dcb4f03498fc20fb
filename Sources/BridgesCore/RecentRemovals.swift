import Synchronization

/// Removals answered recently, so that a re-sent remove succeeds instead of answering 404.
final class RecentRemovals: Sendable {
    private struct Key: Hashable {
        var user: UserID
        var bridgeID: String
        var loginID: String
    }

    private let clock: AnyClock
    private let removals = Mutex<[Key: (removal: RemovedLogin, at: AnyClock.Instant)]>([:])

    init(clock: AnyClock) {
        self.clock = clock
    }

    func remember(_ removal: RemovedLogin, user: UserID) {
        let now = clock.now
        removals.withLock { $0[Key(user: user, bridgeID: removal.bridgeID, loginID: removal.loginID)] = (removal, now) }
    }

    /// Only the user's own removals: another user's re-sent remove is a remove of nothing.
    func removal(bridgeID: String, loginID: String, scope: RemoveScope, user: UserID) -> RemovedLogin? {
        removals.withLock { removals in
            guard let (removal, _) = removals[Key(user: user, bridgeID: bridgeID, loginID: loginID)], removal.scope == scope else {
                return nil
            }
            return removal
        }
    }

    func forget(olderThan age: Duration) {
        let now = clock.now
        removals.withLock { removals in removals = removals.filter { $0.value.at.duration(to: now) <= age } }
    }
}
