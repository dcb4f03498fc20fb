import BridgesCore

/// The demo networks' logins, each user's apart: kept in memory, written through to the store,
/// so listing them (every `GET /v1/bridges`) reads no database and decodes no JSON. Only this
/// process writes them, so memory and store cannot drift apart.
actor DemoLogins {
    private struct Key: Hashable {
        var user: UserID
        var bridgeID: String
    }

    private let store: any Store
    private var byBridge: [Key: [Login]] = [:]

    init(store: any Store) {
        self.store = store
    }

    func logins(bridgeID: String, user: UserID) async throws -> [Login] {
        let key = Key(user: user, bridgeID: bridgeID)
        if let cached = byBridge[key] { return cached }
        let stored = try await store.logins(bridgeID: bridgeID, user: user)
        // Another call may have loaded (and changed) them while this one read the store.
        if let cached = byBridge[key] { return cached }
        byBridge[key] = stored
        return stored
    }

    /// Adds or replaces a login. Memory changes before the write is awaited, so concurrent
    /// changes reach the store in the order memory saw them.
    func save(_ login: Login, bridgeID: String, user: UserID) async throws {
        var logins = try await self.logins(bridgeID: bridgeID, user: user)
        if let index = logins.firstIndex(where: { $0.loginID == login.loginID }) {
            logins[index] = login
        } else {
            logins.append(login)
        }
        byBridge[Key(user: user, bridgeID: bridgeID)] = logins
        try await persist { try await $0.saveLogin(login, bridgeID: bridgeID, user: user) }
    }

    /// Removes a login; returns it as it was, or `nil` when there is none.
    func remove(loginID: String, bridgeID: String, user: UserID) async throws -> Login? {
        var logins = try await self.logins(bridgeID: bridgeID, user: user)
        guard let index = logins.firstIndex(where: { $0.loginID == loginID }) else { return nil }
        let removed = logins.remove(at: index)
        byBridge[Key(user: user, bridgeID: bridgeID)] = logins
        try await persist { _ = try await $0.deleteLogin(bridgeID: bridgeID, loginID: loginID, user: user) }
        return removed
    }

    /// A write that failed leaves memory ahead of the store: forget memory, so the next read
    /// answers what the store holds.
    private func persist(_ write: (any Store) async throws -> Void) async throws {
        do {
            try await write(store)
        } catch {
            byBridge.removeAll()
            throw error
        }
    }
}
