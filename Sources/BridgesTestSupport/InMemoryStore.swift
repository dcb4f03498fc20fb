import BridgesCore
import Foundation
import Synchronization

/// A ``Store`` in memory, for tests of the core that are not about SQL.
public final class InMemoryStore: Store {
    private struct State {
        var sessions: [String: LoginSessionRecord] = [:]
        /// Per user and bridge, in the order they were first saved, as the SQLite store answers them.
        var logins: [LoginsKey: [Login]] = [:]
    }

    private struct LoginsKey: Hashable {
        var user: UserID
        var bridgeID: String
    }

    private let state = Mutex(State())

    public init() {}

    public func saveSession(_ record: LoginSessionRecord) async throws {
        state.withLock { $0.sessions[record.id] = record }
    }

    public func session(id: String) async throws -> LoginSessionRecord? {
        state.withLock { $0.sessions[id] }
    }

    public func failUnfinishedSessions(with error: SessionError, at date: Date) async throws -> Int {
        failUnfinished(where: { _ in true }, with: error, at: date)
    }

    public func failUnfinishedSessions(of user: UserID, with error: SessionError, at date: Date) async throws -> Int {
        failUnfinished(where: { $0.userID == user }, with: error, at: date)
    }

    private func failUnfinished(
        where chosen: (LoginSessionRecord) -> Bool, with error: SessionError, at date: Date
    ) -> Int {
        state.withLock { state in
            var count = 0
            for (id, record) in state.sessions where !record.status.isTerminal && chosen(record) {
                state.sessions[id]?.status = .failed
                state.sessions[id]?.error = error
                state.sessions[id]?.updatedAt = date
                count += 1
            }
            return count
        }
    }

    public func deleteSessions(updatedBefore date: Date) async throws -> Int {
        state.withLock { state in
            let old = state.sessions.filter { $0.value.updatedAt < date }.keys
            for id in old { state.sessions[id] = nil }
            return old.count
        }
    }

    public func saveLogin(_ login: Login, bridgeID: String, user: UserID) async throws {
        let key = LoginsKey(user: user, bridgeID: bridgeID)
        state.withLock { state in
            var logins = state.logins[key, default: []]
            if let index = logins.firstIndex(where: { $0.loginID == login.loginID }) {
                logins[index] = login
            } else {
                logins.append(login)
            }
            state.logins[key] = logins
        }
    }

    public func logins(bridgeID: String, user: UserID) async throws -> [Login] {
        state.withLock { $0.logins[LoginsKey(user: user, bridgeID: bridgeID), default: []] }
    }

    public func deleteLogin(bridgeID: String, loginID: String, user: UserID) async throws -> Bool {
        let key = LoginsKey(user: user, bridgeID: bridgeID)
        return state.withLock { state in
            guard let index = state.logins[key]?.firstIndex(where: { $0.loginID == loginID }) else { return false }
            state.logins[key]?.remove(at: index)
            return true
        }
    }
}
