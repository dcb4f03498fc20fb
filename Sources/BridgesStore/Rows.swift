import BridgesCore
import Foundation
import GRDB

/// The tables' rows as GRDB records. Dates are stored as seconds since 1970, as the first
/// schema did, so databases written by earlier releases read unchanged.
protocol TimestampedRow: Codable, FetchableRecord, PersistableRecord {}

extension TimestampedRow {
    static var databaseDateEncodingStrategy: DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    static var databaseDateDecodingStrategy: DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

/// A login session's record: status, error and IDs, never a step's content or a typed value.
struct SessionRow: TimestampedRow {
    static let databaseTableName = "login_session"

    var id: String
    var bridgeID: String
    var flowID: String
    var status: LoginSessionStatus
    /// JSON, like every nested value GRDB stores.
    var error: SessionError?
    var loginID: String?
    var accountID: String?
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, status, error
        case bridgeID = "bridge_id"
        case flowID = "flow_id"
        case loginID = "login_id"
        case accountID = "account_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    typealias Columns = CodingKeys

    init(_ record: LoginSessionRecord) {
        id = record.id
        bridgeID = record.bridgeID
        flowID = record.flowID
        status = record.status
        error = record.error
        loginID = record.loginID
        accountID = record.accountID
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    var record: LoginSessionRecord {
        LoginSessionRecord(
            id: id, bridgeID: bridgeID, flowID: flowID, status: status, error: error, loginID: loginID,
            accountID: accountID, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// A login that an in-process connector owns, stored whole as JSON.
struct LoginRow: TimestampedRow {
    static let databaseTableName = "login"

    var bridgeID: String
    var loginID: String
    var data: Login
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case data
        case bridgeID = "bridge_id"
        case loginID = "login_id"
        case updatedAt = "updated_at"
    }

    typealias Columns = CodingKeys
}

struct TokenRow: TimestampedRow {
    static let databaseTableName = "access_token"

    var id: String
    var name: String
    var secretHash: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, name
        case secretHash = "secret_hash"
        case createdAt = "created_at"
    }

    typealias Columns = CodingKeys

    init(_ record: AccessTokenRecord) {
        id = record.id
        name = record.name
        secretHash = record.secretHash
        createdAt = record.createdAt
    }

    var record: AccessTokenRecord {
        AccessTokenRecord(id: id, name: name, secretHash: secretHash, createdAt: createdAt)
    }
}

extension LoginSessionStatus: DatabaseValueConvertible {}
