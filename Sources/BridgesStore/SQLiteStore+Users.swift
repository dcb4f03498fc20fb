import BridgesCore
import Foundation
import GRDB

/// Users and their access tokens, in the same database as the sessions.
extension SQLiteStore {
    // MARK: - Users

    /// Adds a user; returns `false` when they were already there.
    public func addUser(_ id: UserID, at date: Date) async throws -> Bool {
        try await database.write { db in
            guard try UserRecord.fetchOne(db, key: id.rawValue) == nil else { return false }
            try UserRecord(id: id, createdAt: date).insert(db)
            return true
        }
    }

    public func users() async throws -> [UserRecord] {
        try await database.read { db in try UserRecord.order(UserRecord.Columns.createdAt, UserRecord.Columns.id).fetchAll(db) }
    }

    public func user(_ id: UserID) async throws -> UserRecord? {
        try await database.read { db in try UserRecord.fetchOne(db, key: id.rawValue) }
    }

    /// Removes a user and revokes their tokens, in one transaction; returns `false` when there
    /// was no such user.
    public func removeUser(_ id: UserID) async throws -> Bool {
        defer { tokenCache?.invalidate() }
        return try await database.write { db in
            try AccessTokenRecord.filter(AccessTokenRecord.Columns.userID == id).deleteAll(db)
            return try UserRecord.deleteOne(db, key: id.rawValue)
        }
    }

    // MARK: - Tokens

    public func insertToken(_ token: AccessTokenRecord) async throws {
        try await database.write { db in try token.insert(db) }
        tokenCache?.invalidate()
    }

    public func tokens() async throws -> [AccessTokenRecord] {
        try await database.read { db in
            try AccessTokenRecord.order(AccessTokenRecord.Columns.createdAt).fetchAll(db)
        }
    }

    /// What the stored token with this hash grants, answered from memory while the files are unchanged.
    public func grant(secretHash: String) async throws -> TokenGrant? {
        guard let tokenCache else {
            return try await token(secretHash: secretHash).map { TokenGrant(tokenID: $0.id, userID: $0.userID) }
        }
        return try await tokenCache.grant(for: secretHash) {
            try await database.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT id, user_id, secret_hash FROM access_token")
                var grants: [String: TokenGrant] = [:]
                for row in rows {
                    guard let user = UserID(row["user_id"] as String) else { continue }
                    grants[row["secret_hash"]] = TokenGrant(tokenID: row["id"], userID: user)
                }
                return grants
            }
        }
    }

    public func token(secretHash: String) async throws -> AccessTokenRecord? {
        try await database.read { db in
            try AccessTokenRecord.filter(AccessTokenRecord.Columns.secretHash == secretHash).fetchOne(db)
        }
    }

    public func deleteToken(id: String) async throws -> Bool {
        defer { tokenCache?.invalidate() }
        return try await database.write { db in try AccessTokenRecord.deleteOne(db, key: id) }
    }
}
