public struct SecurityEvent: Equatable, Sendable {
    public var seq: Int64
    public var occurredAtMs: Int64
    /// The event type (e.g. OCPP security event names such as "FirmwareUpdated", "TamperDetectionActivated").
    public var kind: String
    public var detail: String?
}

/// An append-only log of security-relevant events, bounded to `capacity` entries (oldest dropped).
public final class SecurityEventLog: Sendable {
    private let database: Database
    public let capacity: Int

    public init(database: Database, capacity: Int = 10_000) throws {
        guard capacity >= 1 else { throw StorageError.invalidArgument("security log capacity \(capacity) < 1") }
        self.database = database
        self.capacity = capacity
    }

    @discardableResult
    public func append(kind: String, detail: String? = nil, atMs: Int64) throws -> Int64 {
        guard !kind.isEmpty else { throw StorageError.invalidArgument("empty security event kind") }
        let capacity = capacity
        return try database.transaction { c in
            try c.execute("INSERT INTO security_events (occurred_at_ms, kind, detail) VALUES (?, ?, ?)",
                          [.integer(atMs), .text(kind), .text(orNull: detail)])
            let seq = c.lastInsertRowID
            try c.execute("DELETE FROM security_events WHERE seq <= ?", [.integer(seq - Int64(capacity))])
            return seq
        }
    }

    /// The newest `limit` events, newest first.
    public func recent(limit: Int) throws -> [SecurityEvent] {
        try database.query("""
            SELECT seq, occurred_at_ms, kind, detail FROM security_events ORDER BY seq DESC LIMIT ?
            """, [.int(limit)]) {
            SecurityEvent(seq: try $0.int64(0), occurredAtMs: try $0.int64(1), kind: try $0.string(2),
                          detail: try $0.stringOrNil(3))
        }
    }
}
