import Locking
import Synchronization

/// What the journal needs to open a session. Times are unix milliseconds, energies watt-hours
/// read from the meter's energy register.
public struct SessionStart: Equatable, Sendable {
    public var id: String
    public var connectorId: Int
    public var idToken: String?
    public var parentIdToken: String?
    public var transactionId: String?
    /// The core's state name (e.g. "Preparing", "Charging"); stored as given.
    public var state: String
    public var startReason: String?
    public var startedAtMs: Int64
    public var meterStartWh: Double

    public init(id: String, connectorId: Int, idToken: String? = nil, parentIdToken: String? = nil,
                transactionId: String? = nil, state: String, startReason: String? = nil,
                startedAtMs: Int64, meterStartWh: Double) {
        self.id = id
        self.connectorId = connectorId
        self.idToken = idToken
        self.parentIdToken = parentIdToken
        self.transactionId = transactionId
        self.state = state
        self.startReason = startReason
        self.startedAtMs = startedAtMs
        self.meterStartWh = meterStartWh
    }
}

/// A session as stored. `endedAtMs == nil` means it is still open (or was open at a crash).
public struct SessionRecord: Equatable, Sendable {
    public var id: String
    public var connectorId: Int
    public var idToken: String?
    public var parentIdToken: String?
    public var transactionId: String?
    public var state: String
    public var startReason: String?
    public var startedAtMs: Int64
    public var meterStartWh: Double
    public var updatedAtMs: Int64
    public var stopReason: String?
    public var meterStopWh: Double?
    public var endedAtMs: Int64?
    /// A stop accepted while the session was still open (the reason as the core names it), and
    /// the token that asked for it when that was not the starting one.
    public var stopRequestedReason: String?
    public var stopRequestedIdToken: String?
    /// When the backend refused the token of the still open session (energy withheld since).
    public var deauthorizedAtMs: Int64?
    /// With `deauthorizedAtMs`: the meter reading up to which energy still flows
    /// (MaxEnergyOnInvalidId after the refusal); nil: none.
    public var deauthorizedEnergyLimitWh: Double?

    public var isOpen: Bool { endedAtMs == nil }
}

public struct SessionMeterSample: Equatable, Sendable {
    public var takenAtMs: Int64
    public var energyWh: Double
    public var powerW: Double?

    public init(takenAtMs: Int64, energyWh: Double, powerW: Double? = nil) {
        self.takenAtMs = takenAtMs
        self.energyWh = energyWh
        self.powerW = powerW
    }
}

/// A period in which the session was suspended (by the EV or by the station).
public struct SessionSuspension: Equatable, Sendable {
    public var startedAtMs: Int64
    public var endedAtMs: Int64?
    public var reason: String

    public init(startedAtMs: Int64, endedAtMs: Int64? = nil, reason: String) {
        self.startedAtMs = startedAtMs
        self.endedAtMs = endedAtMs
        self.reason = reason
    }
}

/// A message for the CSMS waiting in the transaction queue until acknowledged.
public struct OutboxMessage: Equatable, Sendable {
    public var seq: Int64
    /// What it is (e.g. "TransactionEvent", "StartTransaction"); the OCPP adapter's vocabulary.
    public var kind: String
    /// The message body, a JSON string produced and understood by the OCPP adapter.
    public var payload: String
    public var sessionId: String?
    public var enqueuedAtMs: Int64
    /// How many times it has been handed to the connection (0 = never sent).
    public var attempts: Int
    public var lastAttemptAtMs: Int64?
}

/// The durable record of sessions and of the transaction messages owed to the CSMS.
///
/// Every call is one transaction that is on disk (fsynced) when it returns. To make several
/// changes atomic — e.g. end a session *and* queue its stop event, so a crash can never leave one
/// without the other — use `atomically { journal in … }`.
///
/// The queue is an outbox: a message is enqueued (on disk) before it is sent, `markSent` counts
/// the attempt, and only `acknowledge` (on the CSMS's answer) removes it. After a crash
/// `pending` returns exactly the unacknowledged messages, in order: nothing is lost, and nothing
/// the CSMS acknowledged is sent again.
public final class SessionJournal: Sendable {
    let database: Database
    /// Where rows get their boot and monotonic time (the station's clock; none in plain tests).
    private let clockStamps = Mutex<ClockStampSource?>(nil)
    /// Committed write transactions so far (every enqueue is one): a reader that found the queue
    /// empty at generation g knows nothing was queued since while this is still g, without
    /// asking SQLite.
    private let committedWrites = Atomic<UInt64>(0)
    /// `writeGeneration` when `oldestPending()` last found the queue empty.
    private let foundEmptyAt = Atomic<UInt64>(.max)

    public init(database: Database) {
        self.database = database
    }

    /// From now on every session and queued message is written with the stamp `source` gives
    /// at the time of the write (see `JournalClockStamp`).
    public func stampRows(with source: @escaping @Sendable () -> JournalClockStamp) {
        clockStamps.locked { $0 = ClockStampSource(source) }
    }

    func currentStamp() -> JournalClockStamp? {
        clockStamps.locked { $0 }?.stamp()
    }

    /// Runs `body` in one transaction; if it throws, none of its changes happen.
    public func atomically<T: Sendable>(_ body: (Writer) throws -> T) throws -> T {
        let stamp = currentStamp()
        let result = try database.transaction { try body(Writer(connection: $0, stamp: stamp)) }
        committedWrites.add(1, ordering: .releasing)
        return result
    }

    /// Grows with every committed write (see `committedWrites`). Read it before a query whose
    /// answer it is to date: a write that commits after the read changes it.
    public var writeGeneration: UInt64 { committedWrites.load(ordering: .acquiring) }

    // MARK: sessions

    @discardableResult
    public func beginSession(_ start: SessionStart) throws -> SessionRecord {
        try atomically { try $0.beginSession(start) }
    }

    /// Changes what is given (nil leaves a field as is). Refuses an ended session.
    public func updateSession(_ id: String, atMs: Int64, state: String? = nil, idToken: String? = nil,
                              parentIdToken: String? = nil) throws {
        try atomically { try $0.updateSession(id, atMs: atMs, state: state, idToken: idToken, parentIdToken: parentIdToken) }
    }

    /// Records the CSMS's (or the adapter's) transaction id; allowed after the end too, because an
    /// OCPP 1.6 id can arrive only when the queued StartTransaction is finally answered.
    public func setTransactionId(_ transactionId: String, forSession id: String) throws {
        try atomically { try $0.setTransactionId(transactionId, forSession: id) }
    }

    public func appendMeterSample(_ sample: SessionMeterSample, toSession id: String) throws {
        try atomically { try $0.appendMeterSample(sample, toSession: id) }
    }

    public func beginSuspension(ofSession id: String, atMs: Int64, reason: String) throws {
        try atomically { try $0.beginSuspension(ofSession: id, atMs: atMs, reason: reason) }
    }

    /// Closes the open suspension; returns false if there was none.
    @discardableResult
    public func endSuspension(ofSession id: String, atMs: Int64) throws -> Bool {
        try atomically { try $0.endSuspension(ofSession: id, atMs: atMs) }
    }

    /// Ends the session once. A second call throws `sessionAlreadyEnded` and changes nothing.
    @discardableResult
    public func endSession(_ id: String, stopReason: String, meterStopWh: Double, atMs: Int64,
                           state: String? = nil) throws -> SessionRecord {
        try atomically { try $0.endSession(id, stopReason: stopReason, meterStopWh: meterStopWh, atMs: atMs, state: state) }
    }

    public func session(_ id: String) throws -> SessionRecord? {
        try database.withConnection { try Writer(connection: $0).session(id) }
    }

    /// Whether the session's (or prelude's) OCPP 2.0.1 TransactionEvents have begun; a read.
    public func hasTransactionEventSeqNo(forSession id: String) throws -> Bool {
        try database.withConnection { try Writer(connection: $0).hasTransactionEventSeqNo(forSession: id) }
    }

    /// Sessions without an end, oldest first: what a restart must reconcile with the hardware.
    public func openSessions() throws -> [SessionRecord] {
        try database.query("SELECT \(Writer.sessionColumns) FROM sessions WHERE ended_at_ms IS NULL ORDER BY started_at_ms, id") {
            try Writer.sessionRecord($0)
        }
    }

    /// The most recently started sessions, newest first.
    public func recentSessions(limit: Int) throws -> [SessionRecord] {
        try database.query("SELECT \(Writer.sessionColumns) FROM sessions ORDER BY started_at_ms DESC, id DESC LIMIT ?",
                           [.int(limit)]) { try Writer.sessionRecord($0) }
    }

    public func meterSamples(ofSession id: String) throws -> [SessionMeterSample] {
        try database.query("""
            SELECT taken_at_ms, energy_wh, power_w FROM session_meter_samples WHERE session_id = ? ORDER BY seq
            """, [.text(id)]) { SessionMeterSample(takenAtMs: try $0.int64(0), energyWh: try $0.double(1), powerW: try $0.doubleOrNil(2)) }
    }

    public func suspensions(ofSession id: String) throws -> [SessionSuspension] {
        try database.query("""
            SELECT started_at_ms, ended_at_ms, reason FROM session_suspensions WHERE session_id = ? ORDER BY started_at_ms
            """, [.text(id)]) { SessionSuspension(startedAtMs: try $0.int64(0), endedAtMs: try $0.int64OrNil(1), reason: try $0.string(2)) }
    }

    /// Keeps a protocol meter value for the session's stop message (StopTxn data). Refuses an
    /// ended session: a value sampled after the stop was queued belongs to no message.
    public func appendTransactionData(_ payload: String, atMs: Int64, toSession id: String) throws {
        try atomically { try $0.appendTransactionData(payload, atMs: atMs, toSession: id) }
    }

    /// The session's kept meter values, oldest first.
    public func transactionData(ofSession id: String) throws -> [String] {
        try database.query("SELECT payload FROM transaction_data WHERE session_id = ? ORDER BY seq", [.text(id)]) {
            try $0.string(0)
        }
    }

    /// Deletes ended sessions (with their samples, suspensions and stop data) that ended before
    /// `beforeMs`. Open sessions, and ended ones with a message still queued, are never pruned.
    @discardableResult
    public func pruneEndedSessions(endedBeforeMs beforeMs: Int64) throws -> Int {
        try database.withConnection { c in
            // A session that still owes the CSMS a message stays: its outbox entry needs it.
            try c.execute("""
                DELETE FROM sessions WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?
                AND id NOT IN (SELECT session_id FROM transaction_queue WHERE session_id IS NOT NULL)
                """, [.integer(beforeMs)])
            return c.changes
        }
    }

    // MARK: transaction queue

    /// Puts a message in the queue; returns its sequence number (strictly increasing, never reused).
    @discardableResult
    public func enqueue(kind: String, payload: String, sessionId: String? = nil, atMs: Int64) throws -> Int64 {
        try atomically { try $0.enqueue(kind: kind, payload: payload, sessionId: sessionId, atMs: atMs) }
    }

    /// The oldest unacknowledged messages, in sequence order.
    public func pending(limit: Int) throws -> [OutboxMessage] {
        try database.query("""
            SELECT seq, kind, payload, session_id, enqueued_at_ms, attempts, last_attempt_at_ms
            FROM transaction_queue ORDER BY seq LIMIT ?
            """, [.int(limit)]) { row in
            OutboxMessage(seq: try row.int64(0), kind: try row.string(1), payload: try row.string(2),
                          sessionId: try row.stringOrNil(3), enqueuedAtMs: try row.int64(4), attempts: try row.int(5),
                          lastAttemptAtMs: try row.int64OrNil(6))
        }
    }

    /// The oldest unacknowledged message; nil when the queue is empty, which is remembered
    /// until the next write (`mayHavePending`).
    public func oldestPending() throws -> OutboxMessage? {
        let generation = writeGeneration  // before the query: a write committed after it shows
        guard let message = try pending(limit: 1).first else {
            foundEmptyAt.store(generation, ordering: .relaxed)
            return nil
        }
        return message
    }

    /// False only when `oldestPending()` found the queue empty and nothing was written since: a
    /// periodic look at the queue can then skip SQLite.
    public var mayHavePending: Bool { writeGeneration != foundEmptyAt.load(ordering: .relaxed) }

    /// The sessions that have a message of `kind` waiting, without reading the messages.
    public func sessionsWithPending(kind: String) throws -> Set<String> {
        Set(try database.query("SELECT DISTINCT session_id FROM transaction_queue WHERE kind = ? AND session_id IS NOT NULL",
                               [.text(kind)]) { try $0.string(0) })
    }

    public func pendingCount() throws -> Int {
        try database.withConnection { c in
            try c.queryFirst("SELECT count(*) FROM transaction_queue") { try $0.int(0) } ?? 0
        }
    }

    /// Counts a send attempt (call it before handing the message to the connection). Returns false
    /// if `seq` is not (or no longer) in the queue.
    @discardableResult
    public func markSent(_ seq: Int64, atMs: Int64) throws -> Bool {
        try atomically { try $0.markSent(seq, atMs: atMs) }
    }

    /// The CSMS answered: the message leaves the queue for good. Returns false if it was not there
    /// (already acknowledged), so a duplicate answer is harmless.
    @discardableResult
    public func acknowledge(_ seq: Int64) throws -> Bool {
        try atomically { try $0.acknowledge(seq) }
    }

    // MARK: -

    /// The journal's operations on a connection inside a transaction (see `atomically`).
    /// Only valid inside the closure it is given to.
    public struct Writer {
        let connection: Connection
        /// The clock at the time of this transaction; nil when the journal has no stamp source.
        var stamp: JournalClockStamp? = nil

        @discardableResult
        public func beginSession(_ start: SessionStart) throws -> SessionRecord {
            guard !start.id.isEmpty else { throw StorageError.invalidArgument("empty session id") }
            guard start.meterStartWh.isFinite else {
                throw StorageError.invalidArgument("meter start \(start.meterStartWh) Wh of session '\(start.id)' is not finite")
            }
            do {
                try connection.execute("""
                    INSERT INTO sessions (id, connector_id, id_token, parent_id_token, transaction_id, state,
                                          start_reason, started_at_ms, meter_start_wh, updated_at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(start.id), .int(start.connectorId), .text(orNull: start.idToken),
                          .text(orNull: start.parentIdToken), .text(orNull: start.transactionId), .text(start.state),
                          .text(orNull: start.startReason), .integer(start.startedAtMs), .real(start.meterStartWh),
                          .integer(start.startedAtMs)])
            } catch let error as StorageError where error.isPrimaryKeyViolation {
                throw StorageError.sessionAlreadyExists(start.id)
            }
            // The session continues its prelude, if it had one: the prelude is over.
            try endPrelude(sessionId: start.id)
            if let stamp {
                try connection.execute("""
                    UPDATE sessions SET boot_id = ?, started_monotonic_ms = ?, unset_clock_offset_ms = ? WHERE id = ?
                    """, [.text(stamp.bootId), .integer(stamp.monotonicMs), .integer(orNull: stamp.unsetWallOffsetMs), .text(start.id)])
            }
            return try requireSession(start.id)
        }

        public func updateSession(_ id: String, atMs: Int64, state: String? = nil, idToken: String? = nil,
                                  parentIdToken: String? = nil) throws {
            try requireOpen(id)
            try connection.execute("""
                UPDATE sessions SET updated_at_ms = ?2, state = coalesce(?3, state), id_token = coalesce(?4, id_token),
                                    parent_id_token = coalesce(?5, parent_id_token)
                WHERE id = ?1
                """, [.text(id), .integer(atMs), .text(orNull: state), .text(orNull: idToken), .text(orNull: parentIdToken)])
            try noteUnsetClock(onSession: id)
        }

        /// A time written to the session while the wall clock is unset: the session is corrected
        /// with this boot's offset once the time is known (a session resumed after a restart
        /// into an unset clock may have started with a right one).
        func noteUnsetClock(onSession id: String) throws {
            guard let stamp, let offset = stamp.unsetWallOffsetMs else { return }
            try connection.execute("UPDATE sessions SET boot_id = ?, unset_clock_offset_ms = ? WHERE id = ?",
                                   [.text(stamp.bootId), .integer(offset), .text(id)])
        }

        /// Keeps an accepted stop with the open session, so a restart carries it out. The first
        /// request wins, as in the core.
        public func requestStop(ofSession id: String, reason: String, idToken: String?) throws {
            try requireOpen(id)
            try connection.execute("""
                UPDATE sessions SET stop_requested_reason = ?2, stop_requested_id_token = ?3
                WHERE id = ?1 AND stop_requested_reason IS NULL
                """, [.text(id), .text(reason), .text(orNull: idToken)])
        }

        /// The backend refused the open session's token: its energy stays withheld, from the
        /// meter reading `energyLimitWh` on (nil: at once). The first refusal wins.
        public func deauthorize(session id: String, atMs: Int64, energyLimitWh: Double? = nil) throws {
            try requireOpen(id)
            try connection.execute("""
                UPDATE sessions SET deauthorized_at_ms = ?2, deauthorized_energy_limit_wh = ?3
                WHERE id = ?1 AND deauthorized_at_ms IS NULL
                """, [.text(id), .integer(atMs), .real(orNull: energyLimitWh)])
            try noteUnsetClock(onSession: id)
        }

        public func setTransactionId(_ transactionId: String, forSession id: String) throws {
            try connection.execute("UPDATE sessions SET transaction_id = ? WHERE id = ?", [.text(transactionId), .text(id)])
            guard connection.changes == 1 else { throw StorageError.sessionNotFound(id) }
        }

        public func appendMeterSample(_ sample: SessionMeterSample, toSession id: String) throws {
            try requireOpen(id)
            guard sample.energyWh.isFinite, sample.powerW?.isFinite ?? true else {
                throw StorageError.invalidArgument("meter sample \(sample) of session '\(id)' is not finite")
            }
            try connection.execute("""
                INSERT INTO session_meter_samples (session_id, taken_at_ms, energy_wh, power_w) VALUES (?, ?, ?, ?)
                """, [.text(id), .integer(sample.takenAtMs), .real(sample.energyWh), .real(orNull: sample.powerW)])
            try connection.execute("UPDATE sessions SET updated_at_ms = max(updated_at_ms, ?) WHERE id = ?",
                                   [.integer(sample.takenAtMs), .text(id)])
            try noteUnsetClock(onSession: id)
        }

        /// At most this many values per session are kept (the newest): a stop message must stay
        /// sendable after a week-long session sampled every minute.
        public static let transactionDataLimit = 500

        public func appendTransactionData(_ payload: String, atMs: Int64, toSession id: String) throws {
            try requireOpen(id)
            try connection.execute("INSERT INTO transaction_data (session_id, taken_at_ms, payload) VALUES (?, ?, ?)",
                                   [.text(id), .integer(atMs), .text(payload)])
            try noteUnsetClock(onSession: id)
            try connection.execute("""
                DELETE FROM transaction_data WHERE session_id = ?1 AND seq <= (
                    SELECT seq FROM transaction_data WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)
                """, [.text(id), .int(Self.transactionDataLimit)])
        }

        public func beginSuspension(ofSession id: String, atMs: Int64, reason: String) throws {
            try requireOpen(id)
            let open = try connection.queryFirst("""
                SELECT started_at_ms FROM session_suspensions WHERE session_id = ? AND ended_at_ms IS NULL
                """, [.text(id)]) { try $0.int64(0) }
            if let open {
                throw StorageError.invalidArgument("session '\(id)' is already suspended since \(open) ms")
            }
            try connection.execute("""
                INSERT INTO session_suspensions (session_id, started_at_ms, reason) VALUES (?, ?, ?)
                """, [.text(id), .integer(atMs), .text(reason)])
            try noteUnsetClock(onSession: id)
        }

        @discardableResult
        public func endSuspension(ofSession id: String, atMs: Int64) throws -> Bool {
            try connection.execute("""
                UPDATE session_suspensions SET ended_at_ms = ? WHERE session_id = ? AND ended_at_ms IS NULL
                """, [.integer(atMs), .text(id)])
            let ended = connection.changes > 0
            if ended { try noteUnsetClock(onSession: id) }
            return ended
        }

        /// Ends the session once; also closes an open suspension at the same time.
        @discardableResult
        public func endSession(_ id: String, stopReason: String, meterStopWh: Double, atMs: Int64,
                               state: String? = nil) throws -> SessionRecord {
            guard meterStopWh.isFinite else {
                throw StorageError.invalidArgument("meter stop \(meterStopWh) Wh of session '\(id)' is not finite")
            }
            try connection.execute("""
                UPDATE sessions SET stop_reason = ?2, meter_stop_wh = ?3, ended_at_ms = ?4, updated_at_ms = ?4,
                                    state = coalesce(?5, state)
                WHERE id = ?1 AND ended_at_ms IS NULL
                """, [.text(id), .text(stopReason), .real(meterStopWh), .integer(atMs), .text(orNull: state)])
            if connection.changes == 0 {
                try requireOpen(id)  // throws sessionNotFound or sessionAlreadyEnded
            }
            try endSuspension(ofSession: id, atMs: atMs)
            try noteUnsetClock(onSession: id)
            return try requireSession(id)
        }

        /// The seqNo of the session's next OCPP 2.0.1 TransactionEvent (0 for its first), counted
        /// in the transaction that queues the message it numbers: a crash neither reuses nor
        /// skips one. The counter is a row of the config table per open transaction (no schema
        /// change); `forgetTransactionEventSeqNo` drops it with the transaction's last event.
        public func nextTransactionEventSeqNo(forSession id: String) throws -> Int {
            guard !id.isEmpty else { throw StorageError.invalidArgument("empty session id") }
            let key = Self.seqNoKeyPrefix + id
            let current = try connection.queryFirst("SELECT value FROM config WHERE key = ?", [.text(key)]) { try $0.string(0) }
            let seqNo = current.flatMap { Int($0) } ?? 0
            try connection.execute("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", [.text(key), .text(String(seqNo + 1))])
            return seqNo
        }

        /// Whether the session's TransactionEvents have begun (a counter exists): a session
        /// opened under OCPP 1.6 has none.
        public func hasTransactionEventSeqNo(forSession id: String) throws -> Bool {
            try connection.queryFirst("SELECT 1 FROM config WHERE key = ?", [.text(Self.seqNoKeyPrefix + id)]) { _ in true } ?? false
        }

        public func forgetTransactionEventSeqNo(forSession id: String) throws {
            try connection.execute("DELETE FROM config WHERE key = ?", [.text(Self.seqNoKeyPrefix + id)])
        }

        static let seqNoKeyPrefix = "ocpp201.transactionEventSeqNo."

        @discardableResult
        public func enqueue(kind: String, payload: String, sessionId: String? = nil, atMs: Int64) throws -> Int64 {
            guard !kind.isEmpty else { throw StorageError.invalidArgument("empty message kind") }
            try connection.execute("""
                INSERT INTO transaction_queue (kind, payload, session_id, enqueued_at_ms, boot_id, enqueued_monotonic_ms,
                                               unset_clock_offset_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(kind), .text(payload), .text(orNull: sessionId), .integer(atMs), .text(orNull: stamp?.bootId),
                      .integer(orNull: stamp?.monotonicMs), .integer(orNull: stamp?.unsetWallOffsetMs)])
            return connection.lastInsertRowID
        }

        @discardableResult
        public func markSent(_ seq: Int64, atMs: Int64) throws -> Bool {
            try connection.execute("""
                UPDATE transaction_queue SET attempts = attempts + 1, last_attempt_at_ms = ? WHERE seq = ?
                """, [.integer(atMs), .integer(seq)])
            return connection.changes > 0
        }

        @discardableResult
        public func acknowledge(_ seq: Int64) throws -> Bool {
            try connection.execute("DELETE FROM transaction_queue WHERE seq = ?", [.integer(seq)])
            return connection.changes > 0
        }

        /// The values kept for the session's stop message, oldest first.
        public func transactionData(ofSession id: String) throws -> [String] {
            try connection.query("SELECT payload FROM transaction_data WHERE session_id = ? ORDER BY seq", [.text(id)]) {
                try $0.string(0)
            }
        }

        public func session(_ id: String) throws -> SessionRecord? {
            try connection.queryFirst("SELECT \(Self.sessionColumns) FROM sessions WHERE id = ?", [.text(id)]) {
                try Self.sessionRecord($0)
            }
        }

        private func requireSession(_ id: String) throws -> SessionRecord {
            guard let record = try session(id) else { throw StorageError.sessionNotFound(id) }
            return record
        }

        private func requireOpen(_ id: String) throws {
            guard try requireSession(id).isOpen else { throw StorageError.sessionAlreadyEnded(id) }
        }

        static let sessionColumns = """
            id, connector_id, id_token, parent_id_token, transaction_id, state, start_reason, started_at_ms, \
            meter_start_wh, updated_at_ms, stop_reason, meter_stop_wh, ended_at_ms, stop_requested_reason, \
            stop_requested_id_token, deauthorized_at_ms, deauthorized_energy_limit_wh
            """

        static func sessionRecord(_ row: Statement) throws -> SessionRecord {
            SessionRecord(id: try row.string(0), connectorId: try row.int(1), idToken: try row.stringOrNil(2),
                          parentIdToken: try row.stringOrNil(3), transactionId: try row.stringOrNil(4),
                          state: try row.string(5), startReason: try row.stringOrNil(6), startedAtMs: try row.int64(7),
                          meterStartWh: try row.double(8), updatedAtMs: try row.int64(9), stopReason: try row.stringOrNil(10),
                          meterStopWh: try row.doubleOrNil(11), endedAtMs: try row.int64OrNil(12),
                          stopRequestedReason: try row.stringOrNil(13), stopRequestedIdToken: try row.stringOrNil(14),
                          deauthorizedAtMs: try row.int64OrNil(15), deauthorizedEnergyLimitWh: try row.doubleOrNil(16))
        }
    }
}

@available(*, unavailable)
extension SessionJournal.Writer: Sendable {}
