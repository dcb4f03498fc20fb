import BridgesCore
import Foundation

/// An API access token as stored: only a hash of the secret is kept.
public struct AccessTokenRecord: Sendable, Hashable, Codable {
    public var id: String
    /// Whom the token acts for.
    public var userID: UserID
    public var name: String
    public var secretHash: String
    public var createdAt: Date

    public init(id: String, userID: UserID, name: String, secretHash: String, createdAt: Date) {
        self.id = id
        self.userID = userID
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
    }

    public enum CodingKeys: String, CodingKey {
        case id, name
        case userID = "user_id"
        case secretHash = "secret_hash"
        case createdAt = "created_at"
    }
}

/// Someone who may use the server: a Matrix user, added by an operator or by signing in.
public struct UserRecord: Sendable, Hashable, Codable {
    public var id: UserID
    public var createdAt: Date

    public init(id: UserID, createdAt: Date) {
        self.id = id
        self.createdAt = createdAt
    }

    public enum CodingKeys: String, CodingKey {
        case id
        case createdAt = "created_at"
    }
}

/// What a presented token grants: whom it acts for, and which token it is (so it can be revoked).
public struct TokenGrant: Sendable, Hashable {
    public var tokenID: String
    public var userID: UserID

    public init(tokenID: String, userID: UserID) {
        self.tokenID = tokenID
        self.userID = userID
    }
}
