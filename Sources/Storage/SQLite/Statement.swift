import CSQLite

/// SQLITE_TRANSIENT: SQLite copies bound text and blobs before `sqlite3_bind_*` returns, so the
/// Swift buffers may go away right after binding.
private let transient = unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)

/// A prepared statement. Obtained from `Connection.withStatement(_:_:)`, which caches it per
/// SQL string and resets it after use. Parameters and columns are numbered from 0 here
/// (SQLite's bind indexes start at 1; the wrapper hides that).
///
/// Not Sendable: it belongs to its connection, which is used by one thread at a time.
public final class Statement {
    let handle: OpaquePointer
    public let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: binding

    /// Binds `value` to the parameter at zero-based `index` (the first `?` is 0).
    public func bind(_ value: SQLValue, at index: Int) throws {
        let position = Int32(index + 1)
        guard index >= 0, position <= sqlite3_bind_parameter_count(handle) else {
            throw StorageError.unknownParameter(name: "#\(index)", sql: sql)
        }
        try bind(value, position: position)
    }

    /// Binds `value` to a named parameter. `name` may be given with or without its prefix
    /// (`":id"` or `"id"`; `:`, `@` and `$` prefixes are tried in that order).
    public func bind(_ value: SQLValue, named name: String) throws {
        let candidates = name.first.map { ":@$".contains($0) } == true ? [name] : [":" + name, "@" + name, "$" + name]
        for candidate in candidates {
            let position = sqlite3_bind_parameter_index(handle, candidate)
            if position > 0 { return try bind(value, position: position) }
        }
        throw StorageError.unknownParameter(name: name, sql: sql)
    }

    /// Binds the values to `?1…?n` in order.
    public func bind(_ values: [SQLValue]) throws {
        guard values.count == Int(sqlite3_bind_parameter_count(handle)) else {
            throw StorageError.invalidArgument(
                "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters in SQL: \(sql)")
        }
        for (index, value) in values.enumerated() { try bind(value, position: Int32(index + 1)) }
    }

    public func bind(_ values: [String: SQLValue]) throws {
        for (name, value) in values { try bind(value, named: name) }
    }

    private func bind(_ value: SQLValue, position: Int32) throws {
        let rc: Int32
        switch value {
        case .integer(let v): rc = sqlite3_bind_int64(handle, position, v)
        case .real(let v): rc = sqlite3_bind_double(handle, position, v)
        case .text(let v): rc = sqlite3_bind_text(handle, position, v, -1, transient)
        case .blob(let bytes):
            rc = bytes.withUnsafeBytes { raw in
                // A zero-length blob must still be a blob, not NULL: bind_zeroblob does that.
                guard let base = raw.baseAddress else { return sqlite3_bind_zeroblob(handle, position, 0) }
                return sqlite3_bind_blob(handle, position, base, Int32(raw.count), transient)
            }
        case .null: rc = sqlite3_bind_null(handle, position)
        }
        try check(rc)
    }

    // MARK: stepping

    /// Advances to the next row: `true` when a row is available to read, `false` when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            // The step error is in the handle's error state; reset returns the same code.
            let error = lastError(rc)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Runs a statement that returns no rows of interest (INSERT, UPDATE, DELETE, DDL).
    public func run() throws {
        while try step() {}
    }

    /// Calls `body` for every row; the statement is positioned on the row during the call.
    public func forEachRow(_ body: (Statement) throws -> Void) throws {
        while try step() { try body(self) }
    }

    /// Makes the statement ready to run again and forgets the bound values.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: columns (valid after `step()` returned true)

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? "#\(index)"
    }

    public func isNull(_ index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    public func value(_ index: Int) -> SQLValue {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, i))
        case SQLITE_TEXT: return .text(textValue(i))
        case SQLITE_BLOB: return .blob(blobValue(i))
        default: return .null
        }
    }

    public func int64(_ index: Int) throws -> Int64 {
        guard let v = try int64OrNil(index) else { throw StorageError.unexpectedNull(column: columnName(index), sql: sql) }
        return v
    }

    public func int64OrNil(_ index: Int) throws -> Int64? {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return sqlite3_column_int64(handle, i)
        case SQLITE_NULL: return nil
        case let other: throw typeMismatch(index, expected: "INTEGER", found: other)
        }
    }

    public func int(_ index: Int) throws -> Int { Int(try int64(index)) }

    public func intOrNil(_ index: Int) throws -> Int? { try int64OrNil(index).map { Int($0) } }

    /// Reads a REAL; an INTEGER column is accepted too (SQLite stores 3.0 as 3 in REAL-affinity columns).
    public func double(_ index: Int) throws -> Double {
        guard let v = try doubleOrNil(index) else { throw StorageError.unexpectedNull(column: columnName(index), sql: sql) }
        return v
    }

    public func doubleOrNil(_ index: Int) throws -> Double? {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_FLOAT, SQLITE_INTEGER: return sqlite3_column_double(handle, i)
        case SQLITE_NULL: return nil
        case let other: throw typeMismatch(index, expected: "REAL", found: other)
        }
    }

    public func string(_ index: Int) throws -> String {
        guard let v = try stringOrNil(index) else { throw StorageError.unexpectedNull(column: columnName(index), sql: sql) }
        return v
    }

    public func stringOrNil(_ index: Int) throws -> String? {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_TEXT: return textValue(i)
        case SQLITE_NULL: return nil
        case let other: throw typeMismatch(index, expected: "TEXT", found: other)
        }
    }

    public func blob(_ index: Int) throws -> [UInt8] {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_BLOB: return blobValue(i)
        case SQLITE_NULL: throw StorageError.unexpectedNull(column: columnName(index), sql: sql)
        case let other: throw typeMismatch(index, expected: "BLOB", found: other)
        }
    }

    private func textValue(_ i: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, i) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, i))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    private func blobValue(_ i: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, i))
        guard count > 0, let raw = sqlite3_column_blob(handle, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    private func typeMismatch(_ index: Int, expected: String, found: Int32) -> StorageError {
        let names: [Int32: String] = [SQLITE_INTEGER: "INTEGER", SQLITE_FLOAT: "REAL", SQLITE_TEXT: "TEXT",
                                      SQLITE_BLOB: "BLOB", SQLITE_NULL: "NULL"]
        return .columnType(column: columnName(index), expected: expected, found: names[found] ?? "\(found)", sql: sql)
    }

    // MARK: errors

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw lastError(rc) }
    }

    private func lastError(_ rc: Int32) -> StorageError {
        let db = sqlite3_db_handle(handle)
        let code = db.map { sqlite3_extended_errcode($0) } ?? rc
        let message = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
        return .sqlite(code: code, message: message, sql: sql)
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
