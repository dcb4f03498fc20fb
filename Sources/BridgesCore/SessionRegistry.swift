import Synchronization

/// The live sessions of this process, with running counts of the unfinished ones, so a new
/// session is checked against the caps without visiting every session.
final class SessionRegistry: Sendable {
    private struct Entry {
        var session: LiveLoginSession
        var bridgeID: String
        var finished = false
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var unfinishedByBridge: [String: Int] = [:]
        var unfinished = 0
    }

    private let state = Mutex(State())

    /// Adds a session if the caps allow one more; otherwise throws `too_many_login_sessions`.
    /// Checking and reserving in one step keeps concurrent creations from passing the caps together.
    func reserve(bridgeID: String, policy: SessionPolicy) throws {
        try state.withLock { state in
            let onBridge = state.unfinishedByBridge[bridgeID, default: 0]
            if onBridge >= policy.maxLivePerBridge {
                throw BridgesError.tooManySessions(limit: "\(policy.maxLivePerBridge) on this bridge")
            }
            if state.unfinished >= policy.maxLiveTotal {
                throw BridgesError.tooManySessions(limit: "\(policy.maxLiveTotal) in all")
            }
            state.unfinishedByBridge[bridgeID] = onBridge + 1
            state.unfinished += 1
        }
    }

    /// Gives back a reservation whose session never started.
    func release(bridgeID: String) {
        state.withLock { state in
            state.unfinishedByBridge[bridgeID, default: 1] -= 1
            state.unfinished -= 1
        }
    }

    func insert(_ session: LiveLoginSession, id: String, bridgeID: String) {
        state.withLock { $0.entries[id] = Entry(session: session, bridgeID: bridgeID) }
    }

    /// Called once by a session when it ends, so it stops counting against the caps.
    func finished(_ id: String) {
        state.withLock { state in
            guard var entry = state.entries[id], !entry.finished else { return }
            entry.finished = true
            state.entries[id] = entry
            state.unfinishedByBridge[entry.bridgeID, default: 1] -= 1
            state.unfinished -= 1
        }
    }

    func live(_ id: String, bridgeID: String) -> LiveLoginSession? {
        state.withLock { state in state.entries[id].flatMap { $0.bridgeID == bridgeID ? $0.session : nil } }
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
