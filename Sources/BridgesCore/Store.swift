import Foundation

/// What survives a restart of a login session: never a step's content or a typed value.
public struct LoginSessionRecord: Sendable, Hashable, Codable {
    public var id: String
    public var userID: UserID
    public var bridgeID: String
    public var flowID: String
    public var status: LoginSessionStatus
    public var error: SessionError?
    public var loginID: String?
    public var accountID: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, userID: UserID, bridgeID: String, flowID: String, status: LoginSessionStatus, error: SessionError? = nil,
        loginID: String? = nil, accountID: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.bridgeID = bridgeID
        self.flowID = flowID
        self.status = status
        self.error = error
        self.loginID = loginID
        self.accountID = accountID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The record's stored names, the same in every store.
    public enum CodingKeys: String, CodingKey, Sendable {
        case id, status, error
        case userID = "user_id"
        case bridgeID = "bridge_id"
        case flowID = "flow_id"
        case loginID = "login_id"
        case accountID = "account_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// What must survive a restart. SQLite implements it for one instance; a PostgreSQL
/// implementation serves several instances sharing one state.
public protocol Store: Sendable {
    func saveSession(_ record: LoginSessionRecord) async throws
    func session(id: String) async throws -> LoginSessionRecord?
    /// Ends every session that was not finished, as after a restart; returns how many.
    func failUnfinishedSessions(with error: SessionError, at date: Date) async throws -> Int
    func deleteSessions(updatedBefore date: Date) async throws -> Int

    /// Ends a user's unfinished sessions (the user was removed); returns how many.
    func failUnfinishedSessions(of user: UserID, with error: SessionError, at date: Date) async throws -> Int

    /// Logins that an in-process connector owns (the bridge behind a remote connector keeps its
    /// own), each user's apart.
    func saveLogin(_ login: Login, bridgeID: String, user: UserID) async throws
    func logins(bridgeID: String, user: UserID) async throws -> [Login]
    func deleteLogin(bridgeID: String, loginID: String, user: UserID) async throws -> Bool
}
