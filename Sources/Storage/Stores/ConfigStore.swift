/// Persisted station configuration: key → string value (OCPP configuration keys and variables,
/// the station's own settings). Values are strings; the owner of a key parses it.
public final class ConfigStore: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func value(for key: String) throws -> String? {
        try database.withConnection { c in
            try c.queryFirst("SELECT value FROM config WHERE key = ?", [.text(key)]) { try $0.string(0) }
        }
    }

    public func set(_ value: String, for key: String) throws {
        guard !key.isEmpty else { throw StorageError.invalidArgument("empty configuration key") }
        try database.execute("""
            INSERT INTO config (key, value) VALUES (?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, [.text(key), .text(value)])
    }

    /// Sets several keys at once: all or none.
    public func set(_ values: [String: String]) throws {
        if let empty = values.keys.first(where: \.isEmpty) {
            throw StorageError.invalidArgument("empty configuration key (value '\(values[empty] ?? "")')")
        }
        try database.transaction { c in
            for (key, value) in values {
                try c.execute("""
                    INSERT INTO config (key, value) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, [.text(key), .text(value)])
            }
        }
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func remove(_ key: String) throws -> Bool {
        try database.withConnection { c in
            try c.execute("DELETE FROM config WHERE key = ?", [.text(key)])
            return c.changes > 0
        }
    }

    /// Removes `key` and scrubs its value from the database's files: a deleted row's bytes stay
    /// in the page's free space, and earlier versions of the page in the WAL. `secure_delete`
    /// zeroes the row, VACUUM rewrites the file without old free space (a value replaced earlier
    /// lingers there too), a truncating checkpoint empties the WAL. It rewrites the whole
    /// database: for a secret moved out once, not for routine deletes. Returns whether it was there.
    @discardableResult
    public func removeSecret(_ key: String) throws -> Bool {
        try database.withConnection { c in
            let previous = try c.queryFirst("PRAGMA secure_delete") { try $0.int(0) } ?? 0
            try c.executeScript("PRAGMA secure_delete = ON")
            defer { try? c.executeScript("PRAGMA secure_delete = \(previous)") }
            try c.execute("DELETE FROM config WHERE key = ?", [.text(key)])
            guard c.changes > 0 else { return false }
            try c.executeScript("VACUUM")
            try c.executeScript("PRAGMA wal_checkpoint(TRUNCATE)")
            return true
        }
    }

    public func all() throws -> [String: String] {
        let pairs = try database.query("SELECT key, value FROM config") { (try $0.string(0), try $0.string(1)) }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }
}
