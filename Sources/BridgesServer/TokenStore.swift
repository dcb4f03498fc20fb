import BridgesStore

/// Where API access tokens are kept. The server owns who may call it; the core's store knows
/// nothing of tokens.
public protocol TokenStore: Sendable {
    func insertToken(_ token: AccessTokenRecord) async throws
    func tokens() async throws -> [AccessTokenRecord]
    func token(secretHash: String) async throws -> AccessTokenRecord?
    /// Whether a token with this hash exists: the check every request makes, so stores answer it fast.
    func hasToken(secretHash: String) async throws -> Bool
    func deleteToken(id: String) async throws -> Bool
}

extension SQLiteStore: TokenStore {}
