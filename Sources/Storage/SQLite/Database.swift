import CSQLite
import Locking
import Synchronization

/// The station's SQLite database file.
///
/// Opened with:
/// - `journal_mode=WAL`: writers never block readers, and a commit is one append to the WAL,
///   which survives a power cut at any point (the file is either before or after the commit).
/// - `synchronous=FULL`: every COMMIT waits for the WAL fsync. With WAL the cheaper `NORMAL` keeps
///   the file consistent but may lose the last commits on power loss; here a commit is a billing
///   fact (a session ended with this meter value, a transaction event queued for the CSMS), and
///   it must not be reported as done and then vanish. The cost is one fsync per transaction,
///   which is why bulk writes (local list updates) run in a single transaction.
/// - `cache_size` of `pageCacheKiB`.
/// - its files (the database, -wal, -shm) mode 0600 whatever the umask (`DatabaseFiles`).
/// - `foreign_keys=ON`, and a busy timeout so a concurrent tool (sqlite3 shell, backup) that holds
///   the lock briefly makes us wait instead of fail.
///
/// Threading: one `Database` object per owner (the station uses it from its one executor). It is
/// `Sendable` because every access goes through a mutex that hands the single connection to one
/// caller at a time; the mutex is not re-entrant, so code inside `withConnection`/`transaction`
/// uses the `Connection` it is given and never calls back into the `Database`.
public final class Database: Sendable {
    public let path: String
    private let connection: Mutex<Connection?>
    /// The first failure that meant the storage itself is unavailable (disk full, read-only,
    /// I/O error) since the owner last asked: whoever made the write (the station's journal, a
    /// protocol adapter's queue), the station hears of it and raises its storage fault.
    private let unavailableFailure = Mutex<StorageError?>(nil)

    /// Opens (creating if needed) the database at `path`; `":memory:"` gives a private in-memory
    /// database for tests (WAL does not apply there). `vfs`: a registered SQLite VFS by name
    /// (nil: the system's); the power-cut tests pass one that drops what was not fsynced.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 5_000, vfs: String? = nil) throws {
        self.path = path
        let onDisk = DatabaseFiles.isFile(path)
        if onDisk { try DatabaseFiles.makePrivate(path) }
        let connection = try Connection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, vfs: vfs)
        try connection.executeScript("PRAGMA foreign_keys = ON")
        let mode = try connection.queryFirst("PRAGMA journal_mode = WAL") { try $0.string(0) } ?? ""
        guard mode.lowercased() == "wal" || (path == ":memory:" && mode.lowercased() == "memory") else {
            throw StorageError.sqlite(code: SQLITE_ERROR,
                                      message: "'\(path)' could not be switched to WAL (journal mode is '\(mode)')",
                                      sql: "PRAGMA journal_mode = WAL")
        }
        try connection.executeScript("PRAGMA synchronous = FULL")
        try connection.executeScript("PRAGMA cache_size = -\(Self.pageCacheKiB)")
        // Switching to WAL created the -wal and -shm with the main file's mode; checked, not assumed.
        if onDisk { try DatabaseFiles.restrictCompanions(of: path) }
        self.connection = Mutex(connection)
    }

    /// SQLite's own page cache (its default is 2 MiB). The operating system caches the file
    /// too, so a smaller one costs a local-list lookup microseconds, not disk reads; it keeps the
    /// daemon's memory inside its budget. `StorageBenchmarks` (50,000 entries): a lookup p50
    /// 4.7 µs with 128 KiB, 6.5 µs with 32 KiB (p99 under 10 µs with both; the budget is 50 µs),
    /// a full update 0.09–0.14 s with either; the idle station holds about 100 KB less.
    public static let pageCacheKiB = 32

    public static func inMemory() throws -> Database { try Database(path: ":memory:") }

    /// Runs `body` with exclusive use of the connection (no transaction is opened).
    public func withConnection<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        do {
            return try connection.locked { connection throws -> T in
                guard let connection else { throw StorageError.databaseClosed }
                return try body(connection)
            }
        } catch let error as StorageError where error.meansStorageUnavailable && error != .databaseClosed {
            unavailableFailure.locked { if $0 == nil { $0 = error } }
            throw error
        }
    }

    /// The first storage-unavailable failure of any caller since the last call, cleared.
    public func takeUnavailableFailure() -> StorageError? {
        unavailableFailure.locked { failure in
            defer { failure = nil }
            return failure
        }
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE` … `COMMIT`, `ROLLBACK` if it throws).
    public func transaction<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        try withConnection { try $0.transaction(body) }
    }

    public func execute(_ sql: String, _ bindings: [SQLValue] = []) throws {
        try withConnection { try $0.execute(sql, bindings) }
    }

    public func query<T: Sendable>(_ sql: String, _ bindings: [SQLValue] = [],
                                   row: (Statement) throws -> T) throws -> [T] {
        try withConnection { try $0.query(sql, bindings, row: row) }
    }

    /// SQLite's `quick_check`: every page readable and well-formed (not the slower index-content
    /// checks of `integrity_check`). Throws `SQLITE_CORRUPT` naming the first problem.
    public func checkIntegrity() throws {
        let problems = try query("PRAGMA quick_check(3)") { try $0.string(0) }
        guard problems != ["ok"] else { return }
        throw StorageError.sqlite(code: SQLITE_CORRUPT, message: problems.joined(separator: "; "), sql: "PRAGMA quick_check")
    }

    /// Gives back what the connection holds beyond what it needs now: the prepared statements
    /// (prepared again on their next use) and the page cache's unused pages. For the end of
    /// start-up, whose one-off statements (migrations, the quick check, the 2.0.1 device model's
    /// comparison with its table, recovery) the running station does not run again.
    public func releaseMemory() {
        connection.locked { $0?.releaseMemory() }
    }

    /// The journal mode in effect: `"wal"` for a file database.
    public func journalMode() throws -> String {
        try withConnection { try $0.queryFirst("PRAGMA journal_mode") { try $0.string(0) } ?? "" }
    }

    /// Closes the connection (checkpointing the WAL). Later calls throw `databaseClosed`.
    /// Dropping the last reference closes it too.
    public func close() {
        connection.locked { $0 = nil }
    }
}
