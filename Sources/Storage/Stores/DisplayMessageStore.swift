/// A message a backend set for the driver's display (OCPP 2.0.1 SetDisplayMessage), as stored:
/// the protocol's own words as text, so the adapter reports it back as it was given.
public struct StoredDisplayMessage: Sendable, Hashable {
    public var id: Int
    /// AlwaysFront, InFront or NormalCycle.
    public var priority: String
    /// Charging, Faulted, Idle or Unavailable; nil: in every state.
    public var state: String?
    /// Wall-clock Unix ms; nil: open.
    public var startsAtMs: Int64?
    public var endsAtMs: Int64?
    public var transactionId: String?
    /// ASCII or UTF8.
    public var format: String
    /// An IETF language tag.
    public var language: String?
    public var content: String

    public init(id: Int, priority: String, state: String? = nil, startsAtMs: Int64? = nil, endsAtMs: Int64? = nil,
                transactionId: String? = nil, format: String, language: String? = nil, content: String) {
        self.id = id
        self.priority = priority
        self.state = state
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
        self.transactionId = transactionId
        self.format = format
        self.language = language
        self.content = content
    }
}

/// The display messages a backend set, kept across restarts. The store keeps at most the
/// number the caller allows: a message beyond it is refused in the same SQLite transaction that
/// counts, so a flood of requests cannot grow the table past the limit.
public final class DisplayMessageStore: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    public enum PutOutcome: Sendable, Equatable {
        /// A new message.
        case stored
        /// The message with the same id was replaced.
        case replaced
        /// Refused: `limit` messages are held already; nothing changed.
        case full
    }

    /// Stores `message`, replacing the one with its id; refuses a new one when `limit` are held.
    public func put(_ message: StoredDisplayMessage, limit: Int) throws -> PutOutcome {
        try database.transaction { c in
            let exists = try c.queryFirst("SELECT 1 FROM display_messages WHERE id = ?", [.int(message.id)]) { _ in true } ?? false
            if !exists {
                let count = try c.queryFirst("SELECT COUNT(*) FROM display_messages") { try $0.int(0) } ?? 0
                guard count < limit else { return .full }
            }
            try c.execute("""
                INSERT INTO display_messages (id, priority, state, starts_at_ms, ends_at_ms, transaction_id, format, language, content)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET priority = excluded.priority, state = excluded.state,
                    starts_at_ms = excluded.starts_at_ms, ends_at_ms = excluded.ends_at_ms,
                    transaction_id = excluded.transaction_id, format = excluded.format,
                    language = excluded.language, content = excluded.content
                """, [.int(message.id), .text(message.priority), SQLValue.text(orNull: message.state), SQLValue.integer(orNull: message.startsAtMs),
                      SQLValue.integer(orNull: message.endsAtMs), SQLValue.text(orNull: message.transactionId), .text(message.format),
                      SQLValue.text(orNull: message.language), .text(message.content)])
            return exists ? .replaced : .stored
        }
    }

    /// Every message, by id.
    public func all() throws -> [StoredDisplayMessage] {
        try database.query("""
            SELECT id, priority, state, starts_at_ms, ends_at_ms, transaction_id, format, language, content
            FROM display_messages ORDER BY id
            """) { row in
            StoredDisplayMessage(id: try row.int(0), priority: try row.string(1), state: try row.stringOrNil(2),
                                 startsAtMs: try row.int64OrNil(3), endsAtMs: try row.int64OrNil(4),
                                 transactionId: try row.stringOrNil(5), format: try row.string(6),
                                 language: try row.stringOrNil(7), content: try row.string(8))
        }
    }

    public func count() throws -> Int {
        try database.withConnection { c in try c.queryFirst("SELECT COUNT(*) FROM display_messages") { try $0.int(0) } } ?? 0
    }

    /// Removes the message `id`; false when there was none.
    @discardableResult
    public func remove(id: Int) throws -> Bool {
        try database.withConnection { c in
            try c.execute("DELETE FROM display_messages WHERE id = ?", [.int(id)])
            return c.changes > 0
        }
    }

    /// Removes the messages bound to `transactionId` (it ended); returns their ids.
    public func removeBound(toTransaction transactionId: String) throws -> [Int] {
        try database.transaction { c in
            let ids = try c.query("SELECT id FROM display_messages WHERE transaction_id = ? ORDER BY id",
                                  [.text(transactionId)]) { try $0.int(0) }
            try c.execute("DELETE FROM display_messages WHERE transaction_id = ?", [.text(transactionId)])
            return ids
        }
    }

    /// Removes the messages whose end is at or before `nowMs`; returns their ids.
    public func removeExpired(nowMs: Int64) throws -> [Int] {
        try database.transaction { c in
            let ids = try c.query("SELECT id FROM display_messages WHERE ends_at_ms <= ? ORDER BY id", [.integer(nowMs)]) {
                try $0.int(0)
            }
            try c.execute("DELETE FROM display_messages WHERE ends_at_ms <= ?", [.integer(nowMs)])
            return ids
        }
    }
}
