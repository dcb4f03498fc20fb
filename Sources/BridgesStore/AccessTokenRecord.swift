import Foundation

/// An API access token as stored: only a hash of the secret is kept.
public struct AccessTokenRecord: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var secretHash: String
    public var createdAt: Date

    public init(id: String, name: String, secretHash: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
    }

    public enum CodingKeys: String, CodingKey {
        case id, name
        case secretHash = "secret_hash"
        case createdAt = "created_at"
    }
}
