import CSQLite

/// One open SQLite connection with its cache of prepared statements (the `statementCacheCapacity`
/// most recently used).
///
/// Not Sendable and not thread-safe by design: SQLite is opened in multi-thread mode (no
/// per-call locking inside SQLite) and `Database` hands the connection to one caller at a time.
/// Code gets a `Connection` only inside `Database.withConnection` / `Database.transaction`.
public final class Connection {
    let handle: OpaquePointer
    private var cache: [String: CachedStatement] = [:]
    private var useCount: UInt64 = 0
    /// SQL strings whose cached statement is currently being stepped by a caller.
    private var inUse: Set<String> = []
    private var savepointDepth = 0

    /// Set once, before the process's first connection opens (`swiftevse_sqlite_page_cache_without_bulk`).
    private static let processConfigured: Void = { _ = swiftevse_sqlite_page_cache_without_bulk() }()

    init(path: String, busyTimeoutMilliseconds: Int32, vfs: String? = nil) throws {
        _ = Self.processConfigured
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, vfs)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw StorageError.sqlite(code: rc, message: "cannot open '\(path)': \(message)", sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        cache.removeAll()  // finalizes every cached statement before the connection goes
        sqlite3_close_v2(handle)
    }

    // MARK: statements

    /// How many prepared statements a connection keeps. A prepared statement holds its compiled
    /// program, 1–5 KB each; the station runs a few dozen statements day to day, while start-up,
    /// migrations, the local list's full update and the reports each run their own once. Kept
    /// without a bound, those one-off statements stayed resident for the life of the process.
    public static let statementCacheCapacity = 48

    private struct CachedStatement {
        let statement: Statement
        var lastUse: UInt64
    }

    /// Statements in the cache now (for tests).
    public var cachedStatementCount: Int { cache.count }

    /// Runs `body` with the prepared statement for `sql`, taken from the cache (prepared on first
    /// use; the least recently used one leaves the cache when it is full). The statement is reset
    /// and its bindings cleared afterwards, also when `body` throws. A nested use of the same SQL
    /// while the cached one is being stepped gets its own statement.
    public func withStatement<T>(_ sql: String, _ body: (Statement) throws -> T) throws -> T {
        let statement: Statement
        let cached: Bool
        useCount &+= 1
        if let existing = cache[sql], !inUse.contains(sql) {
            statement = existing.statement
            cache[sql]?.lastUse = useCount
            cached = true
        } else if cache[sql] == nil {
            statement = try prepare(sql)
            if cache.count >= Self.statementCacheCapacity { evictLeastRecentlyUsed() }
            cache[sql] = CachedStatement(statement: statement, lastUse: useCount)
            cached = true
        } else {
            statement = try prepare(sql)
            cached = false
        }
        if cached { inUse.insert(sql) }
        defer {
            statement.reset()
            if cached { inUse.remove(sql) }
        }
        return try body(statement)
    }

    /// Finalizes every cached statement no caller is stepping, and gives back the page cache's
    /// unused pages (`sqlite3_db_release_memory`).
    func releaseMemory() {
        cache = cache.filter { inUse.contains($0.key) }
        _ = sqlite3_db_release_memory(handle)
    }

    /// Drops the cached statement used longest ago, unless a caller is stepping it.
    private func evictLeastRecentlyUsed() {
        var oldest: (sql: String, lastUse: UInt64)?
        for (sql, entry) in cache where !inUse.contains(sql) && entry.lastUse < (oldest?.lastUse ?? .max) {
            oldest = (sql, entry.lastUse)
        }
        if let oldest { cache[oldest.sql] = nil }
    }

    private func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        // `tail` points into the C string, so it is examined while that string is alive.
        let (rc, trailing) = sql.withCString { text -> (Int32, String) in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, &tail)
            return (rc, tail.map { String(cString: $0) } ?? "")
        }
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
        guard let stmt else { throw StorageError.invalidArgument("SQL holds no statement: '\(sql)'") }
        if !trailing.allSatisfy(\.isWhitespace) {
            sqlite3_finalize(stmt)
            throw StorageError.invalidArgument("more than one statement (use executeScript): '\(sql)'")
        }
        return Statement(handle: stmt, sql: sql)
    }

    /// Runs one statement with positional bindings, ignoring any rows.
    public func execute(_ sql: String, _ bindings: [SQLValue] = []) throws {
        try withStatement(sql) { statement in
            try statement.bind(bindings)
            try statement.run()
        }
    }

    /// Runs several `;`-separated statements without bindings (schema scripts, pragmas).
    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw StorageError.sqlite(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// Maps every row with `row`.
    public func query<T>(_ sql: String, _ bindings: [SQLValue] = [], row: (Statement) throws -> T) throws -> [T] {
        try withStatement(sql) { statement in
            try statement.bind(bindings)
            var result: [T] = []
            while try statement.step() { result.append(try row(statement)) }
            return result
        }
    }

    /// Maps the first row, if any, with `row`.
    public func queryFirst<T>(_ sql: String, _ bindings: [SQLValue] = [], row: (Statement) throws -> T) throws -> T? {
        try withStatement(sql) { statement in
            try statement.bind(bindings)
            return try statement.step() ? try row(statement) : nil
        }
    }

    /// Rows changed by the most recent INSERT/UPDATE/DELETE.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: transactions

    /// Runs `body` atomically. The outermost call is `BEGIN IMMEDIATE` (takes the write lock up
    /// front, so a commit never fails halfway for lack of it) and `COMMIT`; a nested call is a
    /// savepoint. If `body` throws, everything it did is rolled back and the error rethrown.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        if isInTransaction {
            savepointDepth += 1
            let name = "sp\(savepointDepth)"
            defer { savepointDepth -= 1 }
            try executeScript("SAVEPOINT \(name)")
            do {
                let result = try body(self)
                try executeScript("RELEASE \(name)")
                return result
            } catch {
                try? executeScript("ROLLBACK TO \(name); RELEASE \(name)")
                throw error
            }
        }
        try executeScript("BEGIN IMMEDIATE")
        do {
            let result = try body(self)
            try executeScript("COMMIT")
            return result
        } catch {
            // A failed COMMIT may already have rolled back; ROLLBACK then reports "no transaction".
            if isInTransaction { try? executeScript("ROLLBACK") }
            throw error
        }
    }

    // MARK: errors

    func error(_ rc: Int32, sql: String?) -> StorageError {
        .sqlite(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
