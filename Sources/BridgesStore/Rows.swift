import BridgesCore
import Foundation
import GRDB

/// The tables' rows as GRDB records. Dates are stored as seconds since 1970, as the first
/// schema did, so that they compare with the numbers the queries bind (see "v3-numeric-dates").
protocol TimestampedRow: Codable, FetchableRecord, PersistableRecord {}

extension TimestampedRow {
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}

/// A login session's record: status, error and IDs, never a step's content or a typed value.
/// Its error is stored as JSON, like every nested value GRDB stores.
extension LoginSessionRecord: TimestampedRow {
    public static let databaseTableName = "login_session"
    public typealias Columns = CodingKeys
}

extension LoginSessionRecord.CodingKeys: ColumnExpression {}

/// A login that an in-process connector owns, stored whole as JSON.
struct LoginRow: TimestampedRow {
    static let databaseTableName = "login"

    var userID: UserID
    var bridgeID: String
    var loginID: String
    var data: Login
    var updatedAt: Date

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case data
        case userID = "user_id"
        case bridgeID = "bridge_id"
        case loginID = "login_id"
        case updatedAt = "updated_at"
    }

    public typealias Columns = CodingKeys
}

extension AccessTokenRecord: TimestampedRow {
    public static let databaseTableName = "access_token"
    public typealias Columns = CodingKeys
}

extension AccessTokenRecord.CodingKeys: ColumnExpression {}

extension LoginSessionStatus: DatabaseValueConvertible {}

/// Stored as the ID's text.
extension UserID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ value: DatabaseValue) -> UserID? {
        String.fromDatabaseValue(value).flatMap(UserID.init)
    }
}

extension UserRecord: TimestampedRow {
    public static let databaseTableName = "matrix_user"
    public typealias Columns = CodingKeys
}

extension UserRecord.CodingKeys: ColumnExpression {}
