import BridgesCore
import BridgesStore
import Crypto
import Foundation

/// API access tokens, each acting for one user. Only a SHA-256 of each secret is stored: the
/// secrets are 256 random bits, so a fast hash is enough, and a stolen database holds nothing
/// that opens the API.
public struct AccessTokens: Sendable {
    private let store: any UserStore
    /// A token accepted without being stored (`BRIDGES_ACCESS_TOKEN`), for automation; it acts
    /// for the owner.
    private let environmentTokenHash: [UInt8]?
    private let owner: UserID

    /// The ID `whoami` shows for the token from the environment, which has no stored record.
    public static let environmentTokenID = "environment"

    public init(store: any UserStore, environmentToken: String?, owner: UserID) {
        self.store = store
        self.owner = owner
        self.environmentTokenHash = environmentToken.flatMap { $0.isEmpty ? nil : Array(SHA256.hash(data: Data($0.utf8))) }
    }

    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "bt_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ secret: String) -> String {
        hex(SHA256.hash(data: Data(secret.utf8)))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex without `String(format:)`, which costs a formatter per byte on every request.
    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        for byte in digest {
            characters.append(hexDigits[Int(byte >> 4)])
            characters.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Creates a token acting for `user` and returns its record and its secret, which is shown
    /// once and never again.
    public func create(name: String, for user: UserID) async throws -> (record: AccessTokenRecord, secret: String) {
        let secret = Self.newSecret()
        let record = AccessTokenRecord(
            id: Identifiers.make(prefix: "tok_", length: 12), userID: user, name: name, secretHash: Self.hash(secret),
            createdAt: Date())
        try await store.insertToken(record)
        return (record, secret)
    }

    /// Compares without an early exit, so the time taken says nothing about where they differ.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    public func list() async throws -> [AccessTokenRecord] {
        try await store.tokens()
    }

    public func revoke(id: String) async throws -> Bool {
        try await store.deleteToken(id: id)
    }

    /// What a presented token grants, or `nil` when it is not a token of this server.
    public func grant(for presented: String) async -> TokenGrant? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        if let environmentTokenHash, Self.constantTimeEqual(digest, environmentTokenHash) {
            return TokenGrant(tokenID: Self.environmentTokenID, userID: owner)
        }
        return try? await store.grant(secretHash: Self.hex(digest))
    }
}
