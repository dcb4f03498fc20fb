import BridgesCore
import BridgesStore
import Foundation

/// Where users and their API access tokens are kept. The server owns who may call it; the
/// core's store knows nothing of tokens.
public protocol UserStore: Sendable {
    /// Adds a user; returns `false` when they were already there.
    func addUser(_ id: UserID, at date: Date) async throws -> Bool
    func users() async throws -> [UserRecord]
    func user(_ id: UserID) async throws -> UserRecord?
    /// Removes a user and revokes their tokens; returns `false` when there was no such user.
    func removeUser(_ id: UserID) async throws -> Bool

    func insertToken(_ token: AccessTokenRecord) async throws
    func tokens() async throws -> [AccessTokenRecord]
    func token(secretHash: String) async throws -> AccessTokenRecord?
    /// What the token with this hash grants: the check every request makes, so stores answer it fast.
    func grant(secretHash: String) async throws -> TokenGrant?
    func deleteToken(id: String) async throws -> Bool
}

extension SQLiteStore: UserStore {}
