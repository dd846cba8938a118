/// The persistent, bounded authorization cache: the last answer the CSMS gave for each id token.
///
/// When a new token would exceed `capacity`, entries are evicted in this order: first those that
/// no longer authorize anything (status other than Accepted, or past their expiry), then the least
/// recently used. Both `put` and `lookup` count as a use.
public final class AuthorizationCacheStore: Sendable {
    private let database: Database
    public let capacity: Int

    public init(database: Database, capacity: Int) throws {
        guard capacity >= 1 else { throw StorageError.invalidArgument("authorization cache capacity \(capacity) < 1") }
        self.database = database
        self.capacity = capacity
    }

    /// Stores or replaces the entry for `record.idToken`, evicting as described above if the cache
    /// is full. `now` is unix seconds.
    public func put(_ record: AuthorizationRecord, now: Int64) throws {
        try record.validate()
        let capacity = capacity
        try database.transaction { c in
            let exists = try c.queryFirst("SELECT 1 FROM authorization_cache WHERE id_token = ?",
                                          [.text(record.idToken)]) { _ in true } ?? false
            if !exists {
                let count = try c.queryFirst("SELECT count(*) FROM authorization_cache") { try $0.int(0) } ?? 0
                let excess = count - capacity + 1
                if excess > 0 {
                    try c.execute("""
                        DELETE FROM authorization_cache WHERE id_token IN (
                            SELECT id_token FROM authorization_cache
                            ORDER BY (status <> 'Accepted' OR (expires_at IS NOT NULL AND expires_at <= ?)) DESC,
                                     use_order ASC
                            LIMIT ?)
                        """, [.integer(now), .int(excess)])
                }
            }
            try c.execute("""
                INSERT INTO authorization_cache (id_token, status, expires_at, parent_id_token, last_used_at, use_order)
                VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(use_order), 0) + 1 FROM authorization_cache))
                ON CONFLICT (id_token) DO UPDATE SET
                    status = excluded.status, expires_at = excluded.expires_at,
                    parent_id_token = excluded.parent_id_token, last_used_at = excluded.last_used_at,
                    use_order = excluded.use_order
                """, [.text(record.idToken), .text(record.status.rawValue), .integer(orNull: record.expiresAt),
                      .text(orNull: record.parentIdToken), .integer(now)])
        }
    }

    /// The cached entry for `idToken` (as stored: use `effectiveStatus(at:)` for expiry), marking
    /// it used at `now` (unix seconds).
    public func lookup(_ idToken: String, now: Int64) throws -> AuthorizationRecord? {
        try database.withConnection { c in
            try c.queryFirst("""
                UPDATE authorization_cache
                SET last_used_at = ?2, use_order = (SELECT max(use_order) + 1 FROM authorization_cache)
                WHERE id_token = ?1
                RETURNING id_token, status, expires_at, parent_id_token
                """, [.text(idToken), .integer(now)]) { try AuthorizationRecord(row: $0) }
        }
    }

    /// When `idToken` was last put or looked up (unix seconds).
    public func lastUsed(_ idToken: String) throws -> Int64? {
        try database.withConnection { c in
            try c.queryFirst("SELECT last_used_at FROM authorization_cache WHERE id_token = ?",
                             [.text(idToken)]) { try $0.int64(0) }
        }
    }

    @discardableResult
    public func remove(_ idToken: String) throws -> Bool {
        try database.withConnection { c in
            try c.execute("DELETE FROM authorization_cache WHERE id_token = ?", [.text(idToken)])
            return c.changes > 0
        }
    }

    /// Empties the cache (OCPP ClearCache).
    public func clear() throws {
        try database.execute("DELETE FROM authorization_cache")
    }

    public func count() throws -> Int {
        try database.withConnection { c in
            try c.queryFirst("SELECT count(*) FROM authorization_cache") { try $0.int(0) } ?? 0
        }
    }
}
