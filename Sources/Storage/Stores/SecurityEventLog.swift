import Locking
import Synchronization

public struct SecurityEvent: Equatable, Sendable {
    public var seq: Int64
    public var occurredAtMs: Int64
    /// The event type (e.g. OCPP security event names such as "FirmwareUpdated", "TamperDetectionActivated").
    public var kind: String
    public var detail: String?
    /// When the CSMS accepted its notification; nil while it is still owed.
    public var notifiedAtMs: Int64?
}

/// An append-only log of security-relevant events, bounded to `capacity` entries (oldest dropped).
/// It is also the queue of the events owed to the CSMS: an event appended with `notify` stays
/// owed (on disk, across restarts) until `markNotified`.
public final class SecurityEventLog: Sendable {
    private let database: Database
    public let capacity: Int
    /// Where events get their boot and clock state (see `JournalClockStamp`); none in plain tests.
    private let clockStamps = Mutex<ClockStampSource?>(nil)

    public init(database: Database, capacity: Int = 10_000) throws {
        guard capacity >= 1 else { throw StorageError.invalidArgument("security log capacity \(capacity) < 1") }
        self.database = database
        self.capacity = capacity
    }

    /// Logs an event; with `notify` it is also owed to the CSMS until `markNotified`.
    @discardableResult
    public func append(kind: String, detail: String? = nil, atMs: Int64, notify: Bool = false) throws -> Int64 {
        guard !kind.isEmpty else { throw StorageError.invalidArgument("empty security event kind") }
        let capacity = capacity
        let stamp = clockStamps.locked { $0 }?.stamp()
        return try database.transaction { c in
            try c.execute("""
                INSERT INTO security_events (occurred_at_ms, kind, detail, notified_at_ms, boot_id, unset_clock_offset_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.integer(atMs), .text(kind), .text(orNull: detail), notify ? .null : .integer(atMs),
                      .text(orNull: stamp?.bootId), .integer(orNull: stamp?.unsetWallOffsetMs)])
            let seq = c.lastInsertRowID
            try c.execute("DELETE FROM security_events WHERE seq <= ?", [.integer(seq - Int64(capacity))])
            return seq
        }
    }

    /// The newest `limit` events, newest first.
    public func recent(limit: Int) throws -> [SecurityEvent] {
        try database.query("""
            SELECT \(Self.columns) FROM security_events ORDER BY seq DESC LIMIT ?
            """, [.int(limit)], row: Self.event)
    }

    /// The oldest `limit` events still owed to the CSMS, oldest first.
    public func owed(limit: Int) throws -> [SecurityEvent] {
        try database.query("""
            SELECT \(Self.columns) FROM security_events WHERE notified_at_ms IS NULL ORDER BY seq LIMIT ?
            """, [.int(limit)], row: Self.event)
    }

    public func owedCount() throws -> Int {
        try database.withConnection { c in
            try c.queryFirst("SELECT count(*) FROM security_events WHERE notified_at_ms IS NULL") { try $0.int(0) } ?? 0
        }
    }

    /// The CSMS accepted the event's notification; false when it is not (or no longer) owed.
    @discardableResult
    public func markNotified(_ seq: Int64, atMs: Int64) throws -> Bool {
        try database.withConnection { c in
            try c.execute("UPDATE security_events SET notified_at_ms = ? WHERE seq = ? AND notified_at_ms IS NULL",
                          [.integer(atMs), .integer(seq)])
            return c.changes > 0
        }
    }

    /// From now on every event is written with the stamp `source` gives at the time.
    public func stampRows(with source: @escaping @Sendable () -> JournalClockStamp) {
        clockStamps.locked { $0 = ClockStampSource(source) }
    }

    /// The clock became trustworthy (see `SessionJournal.correctTimesRecordedWhileClockUnset`):
    /// the events of boot `bootId` logged with the unset clock get their time, if before
    /// `trustedFromMs`, moved by (true − unset offset). Returns how many were moved. Events of an
    /// earlier boot keep the time they were logged with.
    @discardableResult
    public func correctTimesRecordedWhileClockUnset(bootId: String, wallMinusMonotonicMs trueOffset: Int64,
                                                    trustedFromMs floor: Int64) throws -> Int {
        try database.transaction { c in
            try c.execute("""
                UPDATE security_events
                SET occurred_at_ms = CASE WHEN occurred_at_ms < ?2 THEN occurred_at_ms + (?3 - unset_clock_offset_ms)
                                          ELSE occurred_at_ms END,
                    unset_clock_offset_ms = NULL
                WHERE boot_id = ?1 AND unset_clock_offset_ms IS NOT NULL
                """, [.text(bootId), .integer(floor), .integer(trueOffset)])
            return c.changes
        }
    }

    private static let columns = "seq, occurred_at_ms, kind, detail, notified_at_ms"

    private static func event(_ row: Statement) throws -> SecurityEvent {
        SecurityEvent(seq: try row.int64(0), occurredAtMs: try row.int64(1), kind: try row.string(2),
                      detail: try row.stringOrNil(3), notifiedAtMs: try row.int64OrNil(4))
    }
}
