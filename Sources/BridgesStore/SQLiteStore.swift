import BridgesCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, written through GRDB.
public final class SQLiteStore: Store {
    private let database: any DatabaseWriter
    /// Set for a database in a file, which other processes may change too.
    private let tokenCache: TokenCache?

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public convenience init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // In WAL mode, NORMAL syncs at checkpoints instead of at every commit: a crash of the
        // process loses nothing committed, a power loss may lose the last commits. That is the
        // trade README states; FULL made every session start wait for the disk.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        try self.init(writer: DatabasePool(path: path, configuration: configuration), tokenCache: TokenCache(files: [path, path + "-wal"]))
    }

    /// An in-memory database, for tests.
    public static func inMemory() throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(), tokenCache: nil)
    }

    private init(writer: any DatabaseWriter, tokenCache: TokenCache?) throws {
        database = writer
        self.tokenCache = tokenCache
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
        try await database.write { db in try record.upsert(db) }
    }

    public func session(id: String) async throws -> LoginSessionRecord? {
        try await database.read { db in try LoginSessionRecord.fetchOne(db, key: id) }
    }

    public func failUnfinishedSessions(with error: SessionError, at date: Date) async throws -> Int {
        let unfinished = LoginSessionStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        let encoded = String(decoding: try JSONEncoder().encode(error), as: UTF8.self)
        return try await database.write { db in
            try LoginSessionRecord.filter(unfinished.contains(LoginSessionRecord.Columns.status)).updateAll(
                db, LoginSessionRecord.Columns.status.set(to: LoginSessionStatus.failed.rawValue),
                LoginSessionRecord.Columns.error.set(to: encoded),
                LoginSessionRecord.Columns.updatedAt.set(to: date.timeIntervalSince1970))
        }
    }

    public func deleteSessions(updatedBefore date: Date) async throws -> Int {
        try await database.write { db in
            try LoginSessionRecord.filter(LoginSessionRecord.Columns.updatedAt < date.timeIntervalSince1970).deleteAll(db)
        }
    }

    // MARK: - Logins

    public func saveLogin(_ login: Login, bridgeID: String) async throws {
        try await database.write { db in
            try LoginRow(bridgeID: bridgeID, loginID: login.loginID, data: login, updatedAt: Date()).upsert(db)
        }
    }

    public func logins(bridgeID: String) async throws -> [Login] {
        try await database.read { db in
            try LoginRow.filter(LoginRow.Columns.bridgeID == bridgeID).order(Column.rowID).fetchAll(db).map(\.data)
        }
    }

    public func deleteLogin(bridgeID: String, loginID: String) async throws -> Bool {
        try await database.write { db in
            try LoginRow.deleteOne(db, key: ["bridge_id": bridgeID, "login_id": loginID])
        }
    }

    // MARK: - Tokens

    public func insertToken(_ token: AccessTokenRecord) async throws {
        try await database.write { db in try token.insert(db) }
        tokenCache?.invalidate()
    }

    public func tokens() async throws -> [AccessTokenRecord] {
        try await database.read { db in
            try AccessTokenRecord.order(AccessTokenRecord.Columns.createdAt).fetchAll(db)
        }
    }

    /// Whether a token with this hash is stored, answered from memory while the files are unchanged.
    public func hasToken(secretHash: String) async throws -> Bool {
        guard let tokenCache else { return try await token(secretHash: secretHash) != nil }
        return try await tokenCache.contains(secretHash) {
            try await database.read { db in Set(try String.fetchAll(db, sql: "SELECT secret_hash FROM access_token")) }
        }
    }

    public func token(secretHash: String) async throws -> AccessTokenRecord? {
        try await database.read { db in
            try AccessTokenRecord.filter(AccessTokenRecord.Columns.secretHash == secretHash).fetchOne(db)
        }
    }

    public func deleteToken(id: String) async throws -> Bool {
        defer { tokenCache?.invalidate() }
        return try await database.write { db in try AccessTokenRecord.deleteOne(db, key: id) }
    }
}
