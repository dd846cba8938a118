import CPowerCutVFS
import Glibc
import Storage
import Testing

/// Power cuts, not just kill -9: a kill leaves the page cache to the kernel, which writes it out;
/// a power cut loses every write that was not fsynced. The "powercut" VFS (Tests/PowerCutVFS)
/// records what was synced, cuts the power at the N-th write, truncate or sync, and rewrites the
/// files as the disk holds them afterwards: the synced content only, or (torn) plus a random part
/// of the unsynced writes, some cut short, in any order. The journal workload below is cut at
/// every single one of its operations, both ways; after each cut the database must open without
/// damage, hold everything a call returned from (WAL + synchronous=FULL), and keep each
/// session change together with the message it owes the CSMS.
@Suite(.serialized) struct PowerCutTests {
    /// What the workload got back from Storage before the power went: the facts that must survive.
    struct Committed {
        var migrated = false
        var started: Set<Int> = []
        var samples: [Int: Int] = [:]
        var ended: Set<Int> = []
        var startAcknowledged: Set<Int> = []
        var checkpointed = false
        var listVersion2 = false
    }

    static let sessions = 1...3
    static let samplesPerSession = 2

    static func sessionId(_ n: Int) -> String { "session-\(n)" }

    /// A station's life in miniature: migrations, sessions with their queued messages, meter
    /// samples, acknowledgements, a WAL checkpoint and a local-list update. Stops at the first
    /// error (the power is off) and returns what had been committed.
    static func workload(directory: String) -> Committed {
        var done = Committed()
        do {
            let database = try Database(path: directory + "/" + StationStorage.fileName, vfs: "powercut")
            defer { database.close() }
            let storage = try StationStorage(database: database)
            done.migrated = true
            let journal = storage.journal
            var startSeq: [Int: Int64] = [:]
            for n in sessions {
                let id = sessionId(n)
                startSeq[n] = try journal.atomically { w in
                    _ = try w.beginSession(SessionStart(id: id, connectorId: 1, idToken: "CARD\(n)", state: "Charging",
                                                        startedAtMs: Int64(n) * 1_000, meterStartWh: Double(n) * 100))
                    return try w.enqueue(kind: "StartTransaction", payload: "{\"session\":\(n)}", sessionId: id, atMs: Int64(n) * 1_000)
                }
                done.started.insert(n)
                for k in 1...samplesPerSession {
                    try journal.appendMeterSample(SessionMeterSample(takenAtMs: Int64(n) * 1_000 + Int64(k),
                                                                     energyWh: Double(n) * 100 + Double(k)), toSession: id)
                    done.samples[n] = k
                }
                try journal.atomically { w in
                    try w.endSession(id, stopReason: "Local", meterStopWh: Double(n) * 100 + 10, atMs: Int64(n) * 1_000 + 500)
                    _ = try w.enqueue(kind: "StopTransaction", payload: "{\"session\":\(n)}", sessionId: id, atMs: Int64(n) * 1_000 + 500)
                }
                done.ended.insert(n)
                if let seq = startSeq[n], try journal.acknowledge(seq) { done.startAcknowledged.insert(n) }
                if n == 2 {
                    // Moves the WAL into the database file: the window where a blackout corrupts stores.
                    try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    done.checkpointed = true
                }
            }
            try storage.localList.fullUpdate(version: 2, entries: (0..<300).map {
                AuthorizationRecord(idToken: "LIST\($0)", status: .accepted)
            })
            done.listVersion2 = true
        } catch {
            // The power went off: what returned before this is what counts.
        }
        return done
    }

    /// Opens what the disk holds after the cut with the system VFS and checks every invariant.
    static func check(directory: String, committed: Committed, cut: Int, torn: Bool) throws {
        let label = "cut at operation \(cut)\(torn ? ", torn" : "")"
        // Read back through the same VFS, disarmed: a pass-through that skips the real fsyncs.
        let database = try Database(path: directory + "/" + StationStorage.fileName, vfs: "powercut")
        defer { database.close() }
        try database.checkIntegrity()
        let storage = try StationStorage(database: database)  // migrations finish if the cut was in one
        let journal = storage.journal
        let pending = try journal.pending(limit: 1_000)
        for n in sessions {
            let id = sessionId(n)
            let record = try journal.session(id)
            let startQueued = pending.contains { $0.kind == "StartTransaction" && $0.sessionId == id }
            let stopQueued = pending.contains { $0.kind == "StopTransaction" && $0.sessionId == id }
            if committed.started.contains(n) { #expect(record != nil, "\(label): session \(n) lost") }
            if let record {
                // A session and the StartTransaction it owes were written together: both or neither.
                // Only an acknowledgement removes the message, and that comes after the end returned.
                #expect(startQueued || committed.ended.contains(n), "\(label): session \(n) without its StartTransaction")
                #expect(record.isOpen != stopQueued, "\(label): session \(n) ended=\(!record.isOpen) but StopTransaction queued=\(stopQueued)")
                let samples = try journal.meterSamples(ofSession: id).count
                #expect(samples >= committed.samples[n, default: 0], "\(label): session \(n) lost meter samples")
            } else {
                #expect(!startQueued && !stopQueued, "\(label): a message for session \(n), which does not exist")
            }
            if committed.ended.contains(n) { #expect(record?.isOpen == false, "\(label): the end of session \(n) lost") }
            if committed.startAcknowledged.contains(n) { #expect(!startQueued, "\(label): acknowledged start of \(n) back in the queue") }
        }
        let version = try storage.localList.currentVersion()
        let entries = try storage.localList.count()
        if committed.listVersion2 { #expect(version == 2, "\(label): local list update lost") }
        #expect((version == 2 && entries == 300) || (version == 0 && entries == 0), "\(label): half a local list: version \(version), \(entries) entries")
    }

    @Test func aCutAtEveryWriteAndSyncLosesNothingCommittedAndDamagesNothing() throws {
        #expect(powercut_register() == 0)
        // The whole workload without a cut: how many operations there are to cut at.
        powercut_reset()
        let clean = try TemporaryDirectory()
        let full = withExtendedLifetime(clean) { Self.workload(directory: clean.path) }
        let operations = powercut_ops()
        powercut_reset()
        #expect(full.listVersion2 && full.checkpointed && full.ended.count == Self.sessions.count)
        #expect(operations > 50, "the workload exercises the disk: \(operations) operations")

        var cuts = 0
        for cut in 1...Int(operations) {
            for torn in [false, true] {
                let directory = try TemporaryDirectory()
                defer { withExtendedLifetime(directory) {} }  // its folder goes with it, after the check
                let dir = directory.path
                powercut_reset()
                powercut_arm(cut)
                let committed = Self.workload(directory: dir)
                #expect(powercut_is_off() == 1, "cut \(cut) happened")
                #expect(powercut_restore(UInt32(cut), torn ? 1 : 0) >= 0)
                try Self.check(directory: dir, committed: committed, cut: cut, torn: torn)
                cuts += 1
            }
        }
        #expect(cuts == 2 * Int(operations))
        print("power cuts: \(cuts) (every one of \(operations) writes, truncates and syncs, clean and torn)")
    }
}
