/// The clock as a journal row records it: in which boot, at which monotonic time, and whether
/// the wall clock could be trusted. A charger without an RTC battery boots at 1970; its
/// timestamps can be corrected later only when the row says how far off they were.
public struct JournalClockStamp: Equatable, Sendable {
    /// The boot the monotonic clock counts from (the kernel's boot id on Linux).
    public var bootId: String
    public var monotonicMs: Int64
    /// wall − monotonic (ms) while the wall clock is not set; nil once it is.
    public var unsetWallOffsetMs: Int64?

    public init(bootId: String, monotonicMs: Int64, unsetWallOffsetMs: Int64?) {
        self.bootId = bootId
        self.monotonicMs = monotonicMs
        self.unsetWallOffsetMs = unsetWallOffsetMs
    }
}

/// Where rows get their `JournalClockStamp` (the station's clock), as the stores hold it.
///
/// A closure is never kept bare in a `Mutex`: `withLock` hands its value `inout` through a
/// generic, and a bare function value is re-wrapped in two reabstraction thunks on every such
/// round trip, even a read. The stored closure then grows by two thunks per read and calling it
/// walks all of them: the soak saw evsed's main and NIO stacks grow by about 80 kB a minute, an
/// overflow after a few thousand sessions. Inside a struct the closure passes through untouched.
public struct ClockStampSource: Sendable {
    public let stamp: @Sendable () -> JournalClockStamp

    public init(_ stamp: @escaping @Sendable () -> JournalClockStamp) {
        self.stamp = stamp
    }
}

/// What `correctTimesRecordedWhileClockUnset` changed.
public struct JournalClockCorrection: Equatable, Sendable {
    /// Sessions of this boot whose times were moved.
    public var sessions = 0
    /// Queued messages of this boot whose timestamps were moved.
    public var messages = 0
    /// Queued messages written with an unset clock in an earlier boot: their times cannot be
    /// corrected (the monotonic clock started again), only flagged.
    public var uncorrectable: [Int64] = []

    public init() {}
}

/// The rows' clock columns as stored (tests and diagnostics).
public struct JournalRowClock: Equatable, Sendable {
    public var bootId: String?
    public var monotonicMs: Int64?
    public var unsetWallOffsetMs: Int64?

    public init(bootId: String?, monotonicMs: Int64?, unsetWallOffsetMs: Int64?) {
        self.bootId = bootId
        self.monotonicMs = monotonicMs
        self.unsetWallOffsetMs = unsetWallOffsetMs
    }
}

extension SessionJournal {
    /// The wall clock became trustworthy: `wallMinusMonotonicMs` is its true offset from the
    /// monotonic clock of boot `bootId`. Every session and queued message of that boot written
    /// while the clock was unset gets each of its times that lies before `trustedFromMs` (a
    /// time before the floor was taken from the unset clock) moved by (true − unset offset):
    /// the session's start, end and update times, its meter samples, suspensions and kept stop
    /// data, and the queued messages' timestamps, which `shiftPayload` rewrites (the payload is
    /// the adapter's; it gets the delta and the floor and returns nil to leave it as is).
    /// Queued messages of an earlier boot with an unset clock go through `flagUncorrectable`.
    /// One transaction: a crash leaves all of it or none.
    @discardableResult
    public func correctTimesRecordedWhileClockUnset(
        bootId: String, wallMinusMonotonicMs trueOffset: Int64, trustedFromMs floor: Int64,
        shiftPayload: (_ payload: String, _ deltaMs: Int64) -> String?,
        flagUncorrectable: (_ kind: String, _ payload: String) -> String?
    ) throws -> JournalClockCorrection {
        try database.transaction { c in
            var report = JournalClockCorrection()
            let sessions = try c.query("""
                SELECT id, unset_clock_offset_ms FROM sessions WHERE boot_id = ? AND unset_clock_offset_ms IS NOT NULL
                """, [.text(bootId)]) { (try $0.string(0), try $0.int64(1)) }
            for (id, unsetOffset) in sessions {
                let delta = trueOffset - unsetOffset
                let shifted: (String) -> String = { "CASE WHEN \($0) < ?2 THEN \($0) + ?3 ELSE \($0) END" }
                try c.execute("""
                    UPDATE sessions SET started_at_ms = \(shifted("started_at_ms")), updated_at_ms = \(shifted("updated_at_ms")),
                        ended_at_ms = \(shifted("ended_at_ms")), deauthorized_at_ms = \(shifted("deauthorized_at_ms")),
                        unset_clock_offset_ms = NULL
                    WHERE id = ?1
                    """, [.text(id), .integer(floor), .integer(delta)])
                try c.execute("UPDATE session_meter_samples SET taken_at_ms = \(shifted("taken_at_ms")) WHERE session_id = ?1",
                              [.text(id), .integer(floor), .integer(delta)])
                try c.execute("""
                    UPDATE session_suspensions SET started_at_ms = \(shifted("started_at_ms")), ended_at_ms = \(shifted("ended_at_ms"))
                    WHERE session_id = ?1
                    """, [.text(id), .integer(floor), .integer(delta)])
                let kept = try c.query("SELECT seq, payload FROM transaction_data WHERE session_id = ?", [.text(id)]) {
                    (try $0.int64(0), try $0.string(1))
                }
                for (seq, payload) in kept {
                    try c.execute("UPDATE transaction_data SET taken_at_ms = \(shifted("taken_at_ms")), payload = ?4 WHERE seq = ?1",
                                  [.integer(seq), .integer(floor), .integer(delta), .text(shiftPayload(payload, delta) ?? payload)])
                }
                report.sessions += 1
            }
            let messages = try c.query("""
                SELECT seq, payload, unset_clock_offset_ms FROM transaction_queue
                WHERE boot_id = ? AND unset_clock_offset_ms IS NOT NULL ORDER BY seq
                """, [.text(bootId)]) { (try $0.int64(0), try $0.string(1), try $0.int64(2)) }
            for (seq, payload, unsetOffset) in messages {
                let delta = trueOffset - unsetOffset
                try c.execute("""
                    UPDATE transaction_queue SET payload = ?4, unset_clock_offset_ms = NULL,
                        enqueued_at_ms = CASE WHEN enqueued_at_ms < ?2 THEN enqueued_at_ms + ?3 ELSE enqueued_at_ms END
                    WHERE seq = ?1
                    """, [.integer(seq), .integer(floor), .integer(delta), .text(shiftPayload(payload, delta) ?? payload)])
                report.messages += 1
            }
            let earlier = try c.query("""
                SELECT seq, kind, payload FROM transaction_queue
                WHERE boot_id IS NOT ? AND unset_clock_offset_ms IS NOT NULL ORDER BY seq
                """, [.text(bootId)]) { (try $0.int64(0), try $0.string(1), try $0.string(2)) }
            for (seq, kind, payload) in earlier {
                if let flagged = flagUncorrectable(kind, payload), flagged != payload {
                    try c.execute("UPDATE transaction_queue SET payload = ? WHERE seq = ?", [.text(flagged), .integer(seq)])
                }
                report.uncorrectable.append(seq)
            }
            return report
        }
    }

    /// The clock columns of a session (nil if there is no such session).
    public func clockOfSession(_ id: String) throws -> JournalRowClock? {
        try database.withConnection { c in
            try c.queryFirst("SELECT boot_id, started_monotonic_ms, unset_clock_offset_ms FROM sessions WHERE id = ?", [.text(id)]) {
                JournalRowClock(bootId: try $0.stringOrNil(0), monotonicMs: try $0.int64OrNil(1), unsetWallOffsetMs: try $0.int64OrNil(2))
            }
        }
    }

    /// The clock columns of a queued message (nil if it is not queued).
    public func clockOfMessage(_ seq: Int64) throws -> JournalRowClock? {
        try database.withConnection { c in
            try c.queryFirst("""
                SELECT boot_id, enqueued_monotonic_ms, unset_clock_offset_ms FROM transaction_queue WHERE seq = ?
                """, [.integer(seq)]) {
                JournalRowClock(bootId: try $0.stringOrNil(0), monotonicMs: try $0.int64OrNil(1), unsetWallOffsetMs: try $0.int64OrNil(2))
            }
        }
    }
}
