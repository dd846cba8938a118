import Locking
import Synchronization

/// The persistent, bounded authorization cache: the last answer the CSMS gave for each id token.
///
/// When a new token would exceed `capacity`, entries are evicted in this order: first those that
/// no longer authorize anything (status other than Accepted, or past their expiry), then by the
/// `eviction` rule: the least recently used (the default), the least frequently used, or the
/// first stored. Both `put` and `lookup` count as a use. With a `lifeTimeSeconds`, a token not
/// used for that long is gone (OCPP 2.0.1 AuthCacheCtrlr.LifeTime).
public final class AuthorizationCacheStore: Sendable {
    /// What leaves a full cache once nothing unusable is left (AuthCacheCtrlr.Policy).
    public enum Eviction: String, Sendable, CaseIterable {
        case leastRecentlyUsed = "LRU"
        case leastFrequentlyUsed = "LFU"
        case firstInFirstOut = "FIFO"

        var orderBy: String {
            switch self {
            case .leastRecentlyUsed: return "use_order ASC"
            case .leastFrequentlyUsed: return "use_count ASC, use_order ASC"
            case .firstInFirstOut: return "coalesce(stored_order, use_order) ASC"
            }
        }
    }

    public struct Rules: Sendable, Equatable {
        public var eviction: Eviction
        /// Seconds after its last use that a token leaves the cache; nil: never.
        public var lifeTimeSeconds: Int64?
        public init(eviction: Eviction = .leastRecentlyUsed, lifeTimeSeconds: Int64? = nil) {
            self.eviction = eviction
            self.lifeTimeSeconds = lifeTimeSeconds.map { max(1, $0) }
        }
    }

    private let database: Database
    public let capacity: Int
    private let currentRules = Mutex(Rules())

    public init(database: Database, capacity: Int) throws {
        guard capacity >= 1 else { throw StorageError.invalidArgument("authorization cache capacity \(capacity) < 1") }
        self.database = database
        self.capacity = capacity
    }

    public var rules: Rules {
        get { currentRules.locked { $0 } }
        set { currentRules.locked { $0 = newValue } }
    }

    /// Stores or replaces the entry for `record.idToken`, evicting as described above if the cache
    /// is full. `now` is unix seconds.
    public func put(_ record: AuthorizationRecord, now: Int64) throws {
        try record.validate()
        let capacity = capacity
        let rules = rules
        try database.transaction { c in
            if let life = rules.lifeTimeSeconds {
                try c.execute("DELETE FROM authorization_cache WHERE last_used_at <= ?", [.integer(now - life)])
            }
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
                                     \(rules.eviction.orderBy)
                            LIMIT ?)
                        """, [.integer(now), .int(excess)])
                }
            }
            try c.execute("""
                INSERT INTO authorization_cache (id_token, status, expires_at, parent_id_token, last_used_at, use_order,
                                                 use_count, stored_order)
                VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(use_order), 0) + 1 FROM authorization_cache), 1,
                        (SELECT coalesce(max(coalesce(stored_order, use_order)), 0) + 1 FROM authorization_cache))
                ON CONFLICT (id_token) DO UPDATE SET
                    status = excluded.status, expires_at = excluded.expires_at,
                    parent_id_token = excluded.parent_id_token, last_used_at = excluded.last_used_at,
                    use_order = excluded.use_order, use_count = use_count + 1
                """, [.text(record.idToken), .text(record.status.rawValue), .integer(orNull: record.expiresAt),
                      .text(orNull: record.parentIdToken), .integer(now)])
        }
    }

    /// The cached entry for `idToken` (as stored: use `effectiveStatus(at:)` for expiry), marking
    /// it used at `now` (unix seconds). A token past the cache's life time is removed: nil.
    public func lookup(_ idToken: String, now: Int64) throws -> AuthorizationRecord? {
        let life = rules.lifeTimeSeconds
        return try database.transaction { c in
            if let life {
                try c.execute("DELETE FROM authorization_cache WHERE id_token = ? AND last_used_at <= ?",
                              [.text(idToken), .integer(now - life)])
            }
            return try c.queryFirst("""
                UPDATE authorization_cache
                SET last_used_at = ?2, use_order = (SELECT max(use_order) + 1 FROM authorization_cache),
                    use_count = use_count + 1
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
