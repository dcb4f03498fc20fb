import BridgesCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, written through GRDB.
public final class SQLiteStore: Store {
    let database: any DatabaseWriter
    /// Set for a database in a file, which other processes may change too.
    let tokenCache: TokenCache?

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// `owner` is who the tokens, logins and sessions of a database from before users belong to.
    public convenience init(path: String, owner: UserID) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // In WAL mode, NORMAL syncs at checkpoints instead of at every commit: a crash of the
        // process loses nothing committed, a power loss may lose the last commits. That is the
        // trade README states; FULL made every session start wait for the disk.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        try self.init(
            writer: DatabasePool(path: path, configuration: configuration), owner: owner,
            tokenCache: TokenCache(files: [path, path + "-wal"]))
    }

    /// An in-memory database, for tests.
    public static func inMemory(owner: UserID) throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(), owner: owner, tokenCache: nil)
    }

    private init(writer: any DatabaseWriter, owner: UserID, tokenCache: TokenCache?) throws {
        database = writer
        self.tokenCache = tokenCache
        try Self.migrator(owner: owner).migrate(writer)
    }

    private static func migrator(owner: UserID) -> DatabaseMigrator {
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
        // Users: everything so far belonged to the one person the server served, the owner.
        migrator.registerMigration("v2-users") { db in
            try db.execute(
                sql: """
                    CREATE TABLE matrix_user (
                        id TEXT PRIMARY KEY NOT NULL,
                        created_at DOUBLE NOT NULL
                    );
                    INSERT INTO matrix_user (id, created_at) VALUES (?, ?);
                    ALTER TABLE login_session ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
                    UPDATE login_session SET user_id = ?;
                    CREATE INDEX login_session_user ON login_session(user_id, status);
                    CREATE TABLE login_by_user (
                        user_id TEXT NOT NULL,
                        bridge_id TEXT NOT NULL,
                        login_id TEXT NOT NULL,
                        data TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL,
                        PRIMARY KEY (user_id, bridge_id, login_id)
                    );
                    INSERT INTO login_by_user (user_id, bridge_id, login_id, data, updated_at)
                        SELECT ?, bridge_id, login_id, data, updated_at FROM login ORDER BY rowid;
                    DROP TABLE login;
                    ALTER TABLE login_by_user RENAME TO login;
                    ALTER TABLE access_token ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
                    UPDATE access_token SET user_id = ?;
                    CREATE INDEX access_token_user ON access_token(user_id);
                    """,
                arguments: [owner.rawValue, Date().timeIntervalSince1970, owner.rawValue, owner.rawValue, owner.rawValue])
        }
        // Releases built on GRDB 7 declared the date strategy above under GRDB 6's name, which
        // GRDB 7 does not read, so records went in with dates as text and no comparison with a
        // number (deleting old sessions) ever matched them. Dates become numbers again, to the millisecond the text kept.
        migrator.registerMigration("v3-numeric-dates") { db in
            for (table, column) in [
                ("login_session", "created_at"), ("login_session", "updated_at"), ("login", "updated_at"),
                ("access_token", "created_at"), ("matrix_user", "created_at"),
            ] {
                try db.execute(
                    sql: """
                        UPDATE \(table) SET \(column) = round((julianday(\(column)) - 2440587.5) * 86400000.0) / 1000.0
                        WHERE typeof(\(column)) = 'text'
                        """)
            }
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
        try await failUnfinished(LoginSessionRecord.all(), with: error, at: date)
    }

    public func failUnfinishedSessions(of user: UserID, with error: SessionError, at date: Date) async throws -> Int {
        try await failUnfinished(LoginSessionRecord.filter(LoginSessionRecord.Columns.userID == user), with: error, at: date)
    }

    private func failUnfinished(
        _ sessions: QueryInterfaceRequest<LoginSessionRecord>, with error: SessionError, at date: Date
    ) async throws -> Int {
        let unfinished = LoginSessionStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        let encoded = String(decoding: try JSONEncoder().encode(error), as: UTF8.self)
        return try await database.write { db in
            try sessions.filter(unfinished.contains(LoginSessionRecord.Columns.status)).updateAll(
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

    public func saveLogin(_ login: Login, bridgeID: String, user: UserID) async throws {
        try await database.write { db in
            try LoginRow(userID: user, bridgeID: bridgeID, loginID: login.loginID, data: login, updatedAt: Date()).upsert(db)
        }
    }

    public func logins(bridgeID: String, user: UserID) async throws -> [Login] {
        try await database.read { db in
            try LoginRow.filter(LoginRow.Columns.userID == user && LoginRow.Columns.bridgeID == bridgeID)
                .order(Column.rowID).fetchAll(db).map(\.data)
        }
    }

    public func deleteLogin(bridgeID: String, loginID: String, user: UserID) async throws -> Bool {
        try await database.write { db in
            try LoginRow.deleteOne(db, key: ["user_id": user.rawValue, "bridge_id": bridgeID, "login_id": loginID])
        }
    }
}
