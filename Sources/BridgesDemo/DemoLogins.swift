import BridgesCore

/// The demo networks' logins: kept in memory, written through to the store, so listing them
/// (every `GET /v1/bridges`) reads no database and decodes no JSON. Only this process writes
/// them, so memory and store cannot drift apart.
actor DemoLogins {
    private let store: any Store
    private var byBridge: [String: [Login]] = [:]

    init(store: any Store) {
        self.store = store
    }

    func logins(bridgeID: String) async throws -> [Login] {
        if let cached = byBridge[bridgeID] { return cached }
        let stored = try await store.logins(bridgeID: bridgeID)
        // Another call may have loaded (and changed) them while this one read the store.
        if let cached = byBridge[bridgeID] { return cached }
        byBridge[bridgeID] = stored
        return stored
    }

    /// Adds or replaces a login. Memory changes before the write is awaited, so concurrent
    /// changes reach the store in the order memory saw them.
    func save(_ login: Login, bridgeID: String) async throws {
        var logins = try await self.logins(bridgeID: bridgeID)
        if let index = logins.firstIndex(where: { $0.loginID == login.loginID }) {
            logins[index] = login
        } else {
            logins.append(login)
        }
        byBridge[bridgeID] = logins
        try await persist { try await $0.saveLogin(login, bridgeID: bridgeID) }
    }

    /// Removes a login; returns it as it was, or `nil` when there is none.
    func remove(loginID: String, bridgeID: String) async throws -> Login? {
        var logins = try await self.logins(bridgeID: bridgeID)
        guard let index = logins.firstIndex(where: { $0.loginID == loginID }) else { return nil }
        let removed = logins.remove(at: index)
        byBridge[bridgeID] = logins
        try await persist { _ = try await $0.deleteLogin(bridgeID: bridgeID, loginID: loginID) }
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
