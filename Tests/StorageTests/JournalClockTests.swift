import Storage
import Locking
import Synchronization
import Testing

/// Journal rows remember the boot and the clock state they were written in, and the times of
/// this boot written with an unset clock are moved once the true time is known.
@Suite struct JournalClockTests {
    static let floor: Int64 = 1_704_067_200_000
    /// The unset clock read 1970 + uptime: wall − monotonic = 0 here; the truth is 2027.
    static let trueOffset: Int64 = 1_800_000_000_000

    final class Stamps: Sendable {
        let current = Mutex(JournalClockStamp(bootId: "boot-A", monotonicMs: 1_000, unsetWallOffsetMs: 0))
        func set(_ s: JournalClockStamp) { current.locked { $0 = s } }
    }

    func stampedJournal() throws -> (SessionJournal, Stamps) {
        let journal = try migratedInMemory().journal
        let stamps = Stamps()
        journal.stampRows(with: { stamps.current.locked { $0 } })
        return (journal, stamps)
    }

    static func shift(_ payload: String, _ delta: Int64) -> String {
        // A stand-in for the adapter's JSON rewriting: the payload is a time in ms.
        guard let ms = Int64(payload) else { return payload }
        return ms < floor ? String(ms + delta) : payload
    }

    @Test func rowsCarryTheBootTheMonotonicTimeAndTheUnsetOffset() throws {
        let (journal, stamps) = try stampedJournal()
        try journal.beginSession(SessionStart(id: "s1", connectorId: 1, state: "Charging", startedAtMs: 1_000, meterStartWh: 0))
        let seq = try journal.enqueue(kind: "StartTransaction", payload: "1000", sessionId: "s1", atMs: 1_000)
        #expect(try journal.clockOfSession("s1") == JournalRowClock(bootId: "boot-A", monotonicMs: 1_000, unsetWallOffsetMs: 0))
        #expect(try journal.clockOfMessage(seq) == JournalRowClock(bootId: "boot-A", monotonicMs: 1_000, unsetWallOffsetMs: 0))

        stamps.set(JournalClockStamp(bootId: "boot-A", monotonicMs: 9_000, unsetWallOffsetMs: nil))
        let later = try journal.enqueue(kind: "MeterValues", payload: "x", sessionId: "s1", atMs: Self.trueOffset + 9_000)
        #expect(try journal.clockOfMessage(later) == JournalRowClock(bootId: "boot-A", monotonicMs: 9_000, unsetWallOffsetMs: nil))
    }

    @Test func aJournalWithoutAStampSourceLeavesTheColumnsEmpty() throws {
        let journal = try migratedInMemory().journal
        let seq = try journal.enqueue(kind: "StartTransaction", payload: "{}", atMs: 1)
        #expect(try journal.clockOfMessage(seq) == JournalRowClock(bootId: nil, monotonicMs: nil, unsetWallOffsetMs: nil))
    }

    @Test func theCurrentBootsTimesAreMovedAndTheEarlierBootsOnlyFlagged() throws {
        let (journal, stamps) = try stampedJournal()
        // Boot A never learned the time: its message cannot be corrected in boot B.
        let old = try journal.enqueue(kind: "StartTransaction", payload: "500", atMs: 500)
        stamps.set(JournalClockStamp(bootId: "boot-B", monotonicMs: 2_000, unsetWallOffsetMs: 0))
        try journal.beginSession(SessionStart(id: "s1", connectorId: 1, state: "Charging", startedAtMs: 2_000, meterStartWh: 0))
        let start = try journal.enqueue(kind: "StartTransaction", payload: "2000", sessionId: "s1", atMs: 2_000)
        try journal.appendMeterSample(SessionMeterSample(takenAtMs: 3_000, energyWh: 1), toSession: "s1")
        try journal.beginSuspension(ofSession: "s1", atMs: 3_500, reason: "ev")
        try journal.appendTransactionData("3600", atMs: 3_600, toSession: "s1")
        try journal.endSession("s1", stopReason: "Local", meterStopWh: 2, atMs: 4_000)
        // A second session started once the time was right: nothing of it moves.
        stamps.set(JournalClockStamp(bootId: "boot-B", monotonicMs: 5_000, unsetWallOffsetMs: nil))
        let right = Self.trueOffset + 5_000
        try journal.beginSession(SessionStart(id: "s2", connectorId: 2, state: "Charging", startedAtMs: right, meterStartWh: 0))

        var flagged: [String] = []
        let report = try journal.correctTimesRecordedWhileClockUnset(
            bootId: "boot-B", wallMinusMonotonicMs: Self.trueOffset, trustedFromMs: Self.floor,
            shiftPayload: { Self.shift($0, $1) }, flagUncorrectable: { kind, payload in flagged.append(kind); return payload + "!" })
        #expect(report.sessions == 1 && report.messages == 1 && report.uncorrectable == [old])
        let s1 = try #require(try journal.session("s1"))
        #expect(s1.startedAtMs == Self.trueOffset + 2_000 && s1.endedAtMs == Self.trueOffset + 4_000)
        #expect(try journal.meterSamples(ofSession: "s1").map(\.takenAtMs) == [Self.trueOffset + 3_000])
        #expect(try journal.suspensions(ofSession: "s1") == [
            SessionSuspension(startedAtMs: Self.trueOffset + 3_500, endedAtMs: Self.trueOffset + 4_000, reason: "ev")])
        #expect(try journal.transactionData(ofSession: "s1") == [String(Self.trueOffset + 3_600)])
        #expect(try journal.session("s2")?.startedAtMs == right)
        let pending = try journal.pending(limit: 10)
        #expect(pending.first { $0.seq == start }?.payload == String(Self.trueOffset + 2_000))
        #expect(pending.first { $0.seq == start }?.enqueuedAtMs == Self.trueOffset + 2_000)
        #expect(pending.first { $0.seq == old }?.payload == "500!")
        #expect(flagged == ["StartTransaction"])
        #expect(try journal.clockOfSession("s1")?.unsetWallOffsetMs == nil)

        // Done once: a second correction finds nothing of this boot left to move.
        let again = try journal.correctTimesRecordedWhileClockUnset(
            bootId: "boot-B", wallMinusMonotonicMs: Self.trueOffset, trustedFromMs: Self.floor,
            shiftPayload: { Self.shift($0, $1) }, flagUncorrectable: { _, p in p })
        #expect(again.sessions == 0 && again.messages == 0)
        #expect(try journal.session("s1")?.startedAtMs == Self.trueOffset + 2_000)
    }

    @Test func aSessionResumedIntoAnUnsetClockHasItsNewTimesCorrectedAndItsOldOnesKept() throws {
        let (journal, stamps) = try stampedJournal()
        // Started in boot A with a right clock …
        stamps.set(JournalClockStamp(bootId: "boot-A", monotonicMs: 1_000, unsetWallOffsetMs: nil))
        try journal.beginSession(SessionStart(id: "s1", connectorId: 1, state: "Charging", startedAtMs: Self.trueOffset, meterStartWh: 0))
        // … ended in boot B before its clock was set.
        stamps.set(JournalClockStamp(bootId: "boot-B", monotonicMs: 100, unsetWallOffsetMs: 0))
        try journal.endSession("s1", stopReason: "PowerLoss", meterStopWh: 1, atMs: 100)
        #expect(try journal.clockOfSession("s1")?.bootId == "boot-B")
        try journal.correctTimesRecordedWhileClockUnset(
            bootId: "boot-B", wallMinusMonotonicMs: Self.trueOffset + 50_000, trustedFromMs: Self.floor,
            shiftPayload: { Self.shift($0, $1) }, flagUncorrectable: { _, p in p })
        let s1 = try #require(try journal.session("s1"))
        #expect(s1.startedAtMs == Self.trueOffset)
        #expect(s1.endedAtMs == Self.trueOffset + 50_100)
    }

    @Test func securityEventsOfThisBootLoggedWithAnUnsetClockAreMovedAndOthersStay() throws {
        let storage = try migratedInMemory()
        let stamps = Stamps()
        storage.securityLog.stampRows(with: { stamps.current.locked { $0 } })
        let old = try storage.securityLog.append(kind: "StartupOfTheDevice", atMs: 900, notify: true)  // boot A
        stamps.set(JournalClockStamp(bootId: "boot-B", monotonicMs: 2_000, unsetWallOffsetMs: 0))
        let unset = try storage.securityLog.append(kind: "StartupOfTheDevice", atMs: 2_000, notify: true)
        stamps.set(JournalClockStamp(bootId: "boot-B", monotonicMs: 3_000, unsetWallOffsetMs: nil))
        let right = try storage.securityLog.append(kind: "ResetOrReboot", atMs: Self.trueOffset + 3_000, notify: true)
        let moved = try storage.securityLog.correctTimesRecordedWhileClockUnset(
            bootId: "boot-B", wallMinusMonotonicMs: Self.trueOffset, trustedFromMs: Self.floor)
        #expect(moved == 1)
        let times = Dictionary(uniqueKeysWithValues: try storage.securityLog.owed(limit: 10).map { ($0.seq, $0.occurredAtMs) })
        #expect(times == [old: 900, unset: Self.trueOffset + 2_000, right: Self.trueOffset + 3_000])
    }
}
