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
}
