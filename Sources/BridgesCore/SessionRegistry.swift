import Synchronization

/// The live sessions of this process, with running counts of the unfinished ones, so a new
/// session is checked against the caps without visiting every session.
final class SessionRegistry: Sendable {
    struct Entry {
        var session: LiveLoginSession
        var bridgeID: String
        var user: UserID
        var finished = false
    }

    struct State {
        var entries: [String: Entry] = [:]
        var unfinishedByBridge: [String: Int] = [:]
        var unfinishedByUser: [UserID: Int] = [:]
        var unfinished = 0
    }

    private let state = Mutex(State())

    /// Adds a session if the caps allow one more; otherwise throws `too_many_login_sessions`.
    /// Checking and reserving in one step keeps concurrent creations from passing the caps together.
    func reserve(bridgeID: String, user: UserID, policy: SessionPolicy) throws {
        try state.withLock { state in
            let ofUser = state.unfinishedByUser[user, default: 0]
            if ofUser >= policy.maxLivePerUser {
                throw BridgesError.tooManySessions(limit: "\(policy.maxLivePerUser) of yours")
            }
            let onBridge = state.unfinishedByBridge[bridgeID, default: 0]
            if onBridge >= policy.maxLivePerBridge {
                throw BridgesError.tooManySessions(limit: "\(policy.maxLivePerBridge) on this bridge")
            }
            if state.unfinished >= policy.maxLiveTotal {
                throw BridgesError.tooManySessions(limit: "\(policy.maxLiveTotal) in all")
            }
            state.unfinishedByUser[user] = ofUser + 1
            state.unfinishedByBridge[bridgeID] = onBridge + 1
            state.unfinished += 1
        }
    }

    /// Gives back a reservation whose session never started.
    func release(bridgeID: String, user: UserID) {
        state.withLock { $0.release(bridgeID: bridgeID, user: user) }
    }

    func insert(_ session: LiveLoginSession, id: String, bridgeID: String, user: UserID) {
        state.withLock { $0.entries[id] = Entry(session: session, bridgeID: bridgeID, user: user) }
    }

    /// Called once by a session when it ends, so it stops counting against the caps.
    func finished(_ id: String) {
        state.withLock { state in
            guard var entry = state.entries[id], !entry.finished else { return }
            entry.finished = true
            state.entries[id] = entry
            state.release(bridgeID: entry.bridgeID, user: entry.user)
        }
    }

    /// The user's session on the bridge; another user's answers `nil`, as a missing one does.
    func live(_ id: String, bridgeID: String, user: UserID) -> LiveLoginSession? {
        state.withLock { state in
            state.entries[id].flatMap { $0.bridgeID == bridgeID && $0.user == user ? $0.session : nil }
        }
    }

    func sessions(of user: UserID) -> [LiveLoginSession] {
        state.withLock { $0.entries.values.filter { $0.user == user }.map(\.session) }
    }

    /// The users with sessions in memory.
    var owners: Set<UserID> {
        state.withLock { Set($0.entries.values.map(\.user)) }
    }

    var all: [LiveLoginSession] {
        state.withLock { $0.entries.values.map(\.session) }
    }

    func remove(_ id: String) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Expires idle sessions and forgets those finished longer than `retention` ago.
    func sweep(now: AnyClock.Instant, retention: Duration) async {
        for (id, session) in state.withLock({ $0.entries.map { ($0.key, $0.value.session) } }) {
            await session.expireIfIdle(now: now)
            if let finished = await session.finishedAt, finished.duration(to: now) > retention {
                remove(id)
            }
        }
    }

    func abandonAll() async {
        for session in all { await session.abandon() }
    }
}

extension SessionRegistry.State {
    fileprivate mutating func release(bridgeID: String, user: UserID) {
        unfinishedByBridge[bridgeID, default: 1] -= 1
        unfinishedByUser[user, default: 1] -= 1
        if unfinishedByUser[user] == 0 { unfinishedByUser[user] = nil }
        unfinished -= 1
    }
}
