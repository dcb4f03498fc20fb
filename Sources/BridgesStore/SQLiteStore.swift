import BridgesCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, written through GRDB.
public final class SQLiteStore: Store {
    private let database: any DatabaseWriter
    private var encoder: JSONEncoder { JSONEncoder() }
    private var decoder: JSONDecoder { JSONDecoder() }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public convenience init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try self.init(writer: DatabasePool(path: path, configuration: configuration))
    }

    /// An in-memory database, for tests.
    public static func inMemory() throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue())
    }

    private init(writer: any DatabaseWriter) throws {
        database = writer
        try Self.migrator.migrate(writer)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE login_session (
                        id TEXT PRIMARY KEY NOT NULL,
                        bridge_id TEXT NOT NULL,
                        flow_id TEXT NOT NULL,
                        status TEXT NOT NULL,
                        error TEXT,
                        login_id TEXT,
                        account_id TEXT,
                        created_at DOUBLE NOT NULL,
                        updated_at DOUBLE NOT NULL
                    );
                    CREATE INDEX login_session_status ON login_session(status);
                    CREATE TABLE login (
                        bridge_id TEXT NOT NULL,
                        login_id TEXT NOT NULL,
                        data TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL,
                        PRIMARY KEY (bridge_id, login_id)
                    );
                    CREATE TABLE access_token (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        secret_hash TEXT NOT NULL UNIQUE,
                        created_at DOUBLE NOT NULL
                    );
                    """)
        }
        return migrator
    }

    /// Runs SQLite's own consistency check; returns its findings, empty when the file is sound.
    public func integrityProblems() async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
        }
    }

    // MARK: - Sessions

    public func saveSession(_ record: LoginSessionRecord) async throws {
        let error = try record.error.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO login_session (id, bridge_id, flow_id, status, error, login_id, account_id, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET status = excluded.status, error = excluded.error,
                        login_id = excluded.login_id, account_id = excluded.account_id, updated_at = excluded.updated_at
                    """,
                arguments: [
                    record.id, record.bridgeID, record.flowID, record.status.rawValue, error, record.loginID,
                    record.accountID, record.createdAt.timeIntervalSince1970, record.updatedAt.timeIntervalSince1970,
                ])
        }
    }

    public func session(id: String) async throws -> LoginSessionRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM login_session WHERE id = ?", arguments: [id]).map(Self.sessionRecord)
        }
    }

    public func failUnfinishedSessions(with error: SessionError, at date: Date) async throws -> Int {
        let encoded = String(decoding: try encoder.encode(error), as: UTF8.self)
        let unfinished = LoginSessionStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        return try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE login_session SET status = ?, error = ?, updated_at = ?
                    WHERE status IN (\(unfinished.map { _ in "?" }.joined(separator: ", ")))
                    """,
                arguments: StatementArguments(
                    [LoginSessionStatus.failed.rawValue, encoded, date.timeIntervalSince1970] as [any DatabaseValueConvertible]
                        + unfinished))
            return db.changesCount
        }
    }

    public func deleteSessions(updatedBefore date: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM login_session WHERE updated_at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }

    private static func sessionRecord(_ row: Row) throws -> LoginSessionRecord {
        let status: String = row["status"]
        let error: String? = row["error"]
        return LoginSessionRecord(
            id: row["id"], bridgeID: row["bridge_id"], flowID: row["flow_id"],
            status: LoginSessionStatus(rawValue: status) ?? .failed,
            error: try error.map { try JSONDecoder().decode(SessionError.self, from: Data($0.utf8)) },
            loginID: row["login_id"], accountID: row["account_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    // MARK: - Logins

    public func saveLogin(_ login: Login, bridgeID: String) async throws {
        let data = String(decoding: try encoder.encode(login), as: UTF8.self)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO login (bridge_id, login_id, data, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(bridge_id, login_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
                    """,
                arguments: [bridgeID, login.loginID, data, Date().timeIntervalSince1970])
        }
    }

    public func logins(bridgeID: String) async throws -> [Login] {
        let rows = try await database.read { db in
            try String.fetchAll(
                db, sql: "SELECT data FROM login WHERE bridge_id = ? ORDER BY rowid", arguments: [bridgeID])
        }
        return try rows.map { try decoder.decode(Login.self, from: Data($0.utf8)) }
    }

    public func deleteLogin(bridgeID: String, loginID: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM login WHERE bridge_id = ? AND login_id = ?", arguments: [bridgeID, loginID])
            return db.changesCount > 0
        }
    }

    // MARK: - Tokens

    public func insertToken(_ token: AccessTokenRecord) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO access_token (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [token.id, token.name, token.secretHash, token.createdAt.timeIntervalSince1970])
        }
    }

    public func tokens() async throws -> [AccessTokenRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM access_token ORDER BY created_at").map(Self.tokenRecord)
        }
    }

    public func token(secretHash: String) async throws -> AccessTokenRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM access_token WHERE secret_hash = ?", arguments: [secretHash])
                .map(Self.tokenRecord)
        }
    }

    public func deleteToken(id: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM access_token WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    private static func tokenRecord(_ row: Row) -> AccessTokenRecord {
        AccessTokenRecord(
            id: row["id"], name: row["name"], secretHash: row["secret_hash"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}
