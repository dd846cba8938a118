import CSQLite

/// Everything Storage can fail with. SQLite failures carry SQLite's own message and the SQL
/// that failed, so a log line alone tells what went wrong where.
public indirect enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// SQLite refused: `code` is the extended result code, `message` its `sqlite3_errmsg`.
    case sqlite(code: Int32, message: String, sql: String?)
    /// A column read as a non-optional type held NULL.
    case unexpectedNull(column: String, sql: String)
    /// A column held a storage class other than the one asked for.
    case columnType(column: String, expected: String, found: String, sql: String)
    /// A named parameter (`:name`) that the statement does not contain.
    case unknownParameter(name: String, sql: String)
    /// A stored value the schema does not allow (e.g. an unknown status string).
    case corruptValue(column: String, value: String)
    /// A caller passed something a store refuses; nothing was changed.
    case invalidArgument(String)
    /// The database was written by a newer firmware whose schema this one does not know.
    case schemaTooNew(found: Int, latest: Int)
    /// The migration list itself is malformed (versions not 1, 2, 3, … in order).
    case invalidMigrationList(String)
    /// Migration `version` failed and was rolled back; the schema stays at `version - 1`.
    case migrationFailed(version: Int, underlying: StorageError)
    case duplicateIdToken(String)
    case sessionAlreadyExists(String)
    case sessionNotFound(String)
    /// `endSession` was called for a session that already has an end: ending twice would bill twice.
    case sessionAlreadyEnded(String)
    case databaseClosed
    /// The database file (or its -wal/-shm) could not be created or made private (0600).
    case fileAccess(path: String, operation: String, reason: String)

    /// SQLite's primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …), if this came from SQLite.
    public var sqlitePrimaryCode: Int32? {
        if case .sqlite(let code, _, _) = self { return code & 0xFF }
        return nil
    }

    /// SQLite's extended result code (e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`), if this came from SQLite.
    public var sqliteExtendedCode: Int32? {
        if case .sqlite(let code, _, _) = self { return code }
        return nil
    }

    /// The database file is not a database or is damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`):
    /// it is moved aside, never repaired in place or deleted.
    public var isDamagedFile: Bool {
        sqlitePrimaryCode == SQLITE_CORRUPT || sqlitePrimaryCode == SQLITE_NOTADB
    }

    /// The storage itself cannot take a write: disk full, read-only, an I/O error, a file that
    /// cannot be opened, a damaged file. Nothing billed can be recorded until it can again.
    public var meansStorageUnavailable: Bool {
        switch self {
        case .sqlite:
            return [SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_CORRUPT, SQLITE_NOTADB,
                    SQLITE_PERM].contains(sqlitePrimaryCode ?? 0)
        case .fileAccess, .databaseClosed: return true
        case .migrationFailed(_, let underlying): return underlying.meansStorageUnavailable
        default: return false
        }
    }

    /// A UNIQUE/PRIMARY KEY clash (`SQLITE_CONSTRAINT_PRIMARYKEY`, which the C macro spells as
    /// an expression Swift does not import).
    public var isPrimaryKeyViolation: Bool { sqliteExtendedCode == SQLITE_CONSTRAINT | (6 << 8) }

    public var description: String {
        switch self {
        case .sqlite(let code, let message, let sql):
            let name = String(cString: sqlite3_errstr(code))
            if let sql { return "SQLite error \(code) (\(name)): \(message) — in SQL: \(sql)" }
            return "SQLite error \(code) (\(name)): \(message)"
        case .unexpectedNull(let column, let sql):
            return "column '\(column)' is NULL but a value was required — in SQL: \(sql)"
        case .columnType(let column, let expected, let found, let sql):
            return "column '\(column)' holds \(found), expected \(expected) — in SQL: \(sql)"
        case .unknownParameter(let name, let sql):
            return "no parameter named '\(name)' — in SQL: \(sql)"
        case .corruptValue(let column, let value):
            return "column '\(column)' holds an unknown value '\(value)'"
        case .invalidArgument(let why):
            return "invalid argument: \(why)"
        case .schemaTooNew(let found, let latest):
            return "database schema version \(found) is newer than this firmware's latest (\(latest)); refusing to touch it"
        case .invalidMigrationList(let why):
            return "invalid migration list: \(why)"
        case .migrationFailed(let version, let underlying):
            return "migration to schema version \(version) failed and was rolled back: \(underlying)"
        case .duplicateIdToken(let token):
            return "id token '\(token)' appears more than once in the update"
        case .sessionAlreadyExists(let id):
            return "session '\(id)' already exists"
        case .sessionNotFound(let id):
            return "no session '\(id)'"
        case .sessionAlreadyEnded(let id):
            return "session '\(id)' has already ended; it is not ended twice"
        case .databaseClosed:
            return "the database has been closed"
        case .fileAccess(let path, let operation, let reason):
            return "\(operation) \(path): \(reason)"
        }
    }
}
