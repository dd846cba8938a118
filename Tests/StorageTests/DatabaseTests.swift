import Storage
import Testing

@Suite struct DatabaseTests {
    @Test func bindsAndReadsEveryStorageClassByIndexAndName() throws {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(-7), .real(2.5), .text("zwölf"), .blob([0, 1, 255]), .null])
        try db.withConnection { c in
            try c.withStatement("INSERT INTO t (i, r, s, b, n) VALUES (:i, @r, $s, :b, :n)") { s in
                try s.bind(.integer(Int64.max), named: "i")
                try s.bind(.real(-0.125), named: "@r")
                try s.bind(.text(""), named: "s")
                try s.bind(.blob([]), named: ":b")
                try s.bind(.text("x"), named: "n")
                try s.run()
            }
        }
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid") { row in
            [row.value(0), row.value(1), row.value(2), row.value(3), row.value(4)]
        }
        #expect(rows == [[.integer(-7), .real(2.5), .text("zwölf"), .blob([0, 1, 255]), .null],
                         [.integer(Int64.max), .real(-0.125), .text(""), .blob([]), .text("x")]])
        let typed = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid LIMIT 1") { row in
            (try row.int64(0), try row.double(1), try row.string(2), try row.blob(3), try row.stringOrNil(4), row.isNull(4))
        }
        #expect(typed.count == 1)
        #expect(typed[0].0 == -7 && typed[0].1 == 2.5 && typed[0].2 == "zwölf" && typed[0].3 == [0, 1, 255])
        #expect(typed[0].4 == nil && typed[0].5)
    }

    @Test func badSQLIsAnErrorThatNamesTheSQL() throws {
        let db = try Database.inMemory()
        let error = try #require(throws: StorageError.self) { try db.execute("SELEC 1") }
        guard case .sqlite(_, let message, let sql) = error else {
            Issue.record("expected a SQLite error, got \(error)")
            return
        }
        #expect(sql == "SELEC 1")
        #expect(message.contains("syntax error"))
        #expect(error.description.contains("SELEC 1"))
    }

    @Test func nullAndWrongTypeAreClearErrors() throws {
        let db = try Database.inMemory()
        #expect(throws: StorageError.unexpectedNull(column: "x", sql: "SELECT NULL AS x")) {
            _ = try db.query("SELECT NULL AS x") { try $0.int64(0) }
        }
        #expect(throws: StorageError.columnType(column: "y", expected: "TEXT", found: "INTEGER", sql: "SELECT 3 AS y")) {
            _ = try db.query("SELECT 3 AS y") { try $0.string(0) }
        }
        // An integer is a fine REAL.
        #expect(try db.query("SELECT 3") { try $0.double(0) } == [3.0])
    }

    @Test func wrongParametersAreRefusedByName() throws {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (a)")
        #expect(throws: StorageError.unknownParameter(name: "nope", sql: "INSERT INTO t VALUES (:a)")) {
            try db.withConnection { c in
                try c.withStatement("INSERT INTO t VALUES (:a)") { try $0.bind(.integer(1), named: "nope") }
            }
        }
        #expect(throws: StorageError.self) { try db.execute("INSERT INTO t VALUES (?)", [1, 2]) }
        #expect(throws: StorageError.self) { try db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)") }
        #expect(try db.query("SELECT count(*) FROM t") { try $0.int(0) } == [0])
    }

    @Test func constraintViolationsCarrySQLiteCodes() throws {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try db.execute("INSERT INTO t VALUES ('a')")
        let error = try #require(throws: StorageError.self) { try db.execute("INSERT INTO t VALUES ('a')") }
        #expect(error.sqlitePrimaryCode == 19)  // SQLITE_CONSTRAINT
        #expect(error.isPrimaryKeyViolation)
    }

    @Test func transactionCommitsOrRollsBackEverything() throws {
        struct Boom: Error {}
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (a INTEGER)")
        try db.transaction { c in
            try c.execute("INSERT INTO t VALUES (1)")
            try c.execute("INSERT INTO t VALUES (2)")
        }
        #expect(throws: Boom.self) {
            try db.transaction { c in
                try c.execute("INSERT INTO t VALUES (3)")
                throw Boom()
            }
        }
        // A failing statement inside rolls back the earlier ones too.
        #expect(throws: StorageError.self) {
            try db.transaction { c in
                try c.execute("INSERT INTO t VALUES (4)")
                try c.execute("INSERT INTO nowhere VALUES (5)")
            }
        }
        #expect(try db.query("SELECT a FROM t ORDER BY a") { try $0.int(0) } == [1, 2])
        #expect(try db.withConnection { $0.isInTransaction } == false)
    }

    @Test func nestedTransactionIsASavepoint() throws {
        struct Boom: Error {}
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (a INTEGER)")
        try db.transaction { c in
            try c.execute("INSERT INTO t VALUES (1)")
            try? c.transaction { inner in
                try inner.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
            try c.transaction { inner in try inner.execute("INSERT INTO t VALUES (3)") }
        }
        #expect(try db.query("SELECT a FROM t ORDER BY a") { try $0.int(0) } == [1, 3])
    }

    @Test func sameSQLCanBeSteppedInsideItself() throws {
        let db = try Database.inMemory()
        try db.execute("CREATE TABLE t (a INTEGER)")
        for i in 1...3 { try db.execute("INSERT INTO t VALUES (?)", [.int(i)]) }
        let pairs = try db.withConnection { c in
            try c.query("SELECT a FROM t ORDER BY a") { outer in
                let a = try outer.int(0)
                let inner = try c.query("SELECT a FROM t ORDER BY a") { try $0.int(0) }
                return inner.map { a * 10 + $0 }
            }
        }
        #expect(pairs.flatMap { $0 } == [11, 12, 13, 21, 22, 23, 31, 32, 33])
    }

    @Test func theStatementCacheKeepsTheMostRecentlyUsedAndNeverOneInUse() throws {
        let db = try Database.inMemory()
        let capacity = Connection.statementCacheCapacity
        try db.execute("CREATE TABLE t (a INTEGER)")
        try db.execute("INSERT INTO t VALUES (1), (2)")
        let counted = try db.withConnection { c -> [Int] in
            var counts: [Int] = []
            // The outer statement is being stepped while more than a cache's worth of others run.
            try c.withStatement("SELECT a FROM t ORDER BY a") { outer in
                while try outer.step() {
                    for n in 0..<(capacity + 10) { _ = try c.query("SELECT \(n) + a FROM t") { try $0.int(0) } }
                    counts.append(c.cachedStatementCount)
                }
            }
            // Still cached, and still right, after all that.
            counts.append(try c.query("SELECT a FROM t ORDER BY a") { try $0.int(0) }.count)
            return counts
        }
        #expect(counted == [capacity, capacity, 2])
        #expect(try db.withConnection { $0.cachedStatementCount } <= capacity)
        db.releaseMemory()
        #expect(try db.withConnection { $0.cachedStatementCount } == 0)
        #expect(try db.query("SELECT a FROM t ORDER BY a") { try $0.int(0) } == [1, 2], "prepared again when next used")
    }

    @Test func fileDatabaseRunsInWALWithFullSyncAndForeignKeys() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("wal.sqlite"))
        #expect(try db.journalMode() == "wal")
        #expect(try db.query("PRAGMA synchronous") { try $0.int(0) } == [2])  // FULL
        #expect(try db.query("PRAGMA foreign_keys") { try $0.int(0) } == [1])
        #expect(try db.query("PRAGMA cache_size") { try $0.int(0) } == [-Database.pageCacheKiB])
        try db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        try db.execute("CREATE TABLE c (p INTEGER REFERENCES p (id))")
        #expect(throws: StorageError.self) { try db.execute("INSERT INTO c VALUES (42)") }
    }

    @Test func committedDataSurvivesCloseAndReopen() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("reopen.sqlite")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t (a TEXT)")
            try db.execute("INSERT INTO t VALUES ('kept')")
            db.close()
            #expect(throws: StorageError.databaseClosed) { try db.execute("SELECT 1") }
        }
        let reopened = try Database(path: path)
        #expect(try reopened.query("SELECT a FROM t") { try $0.string(0) } == ["kept"])
    }

    @Test func unopenablePathNamesThePath() throws {
        let error = try #require(throws: StorageError.self) { try Database(path: "/nonexistent-dir/x/db.sqlite") }
        #expect(error.description.contains("/nonexistent-dir/x/db.sqlite"))
    }
}
