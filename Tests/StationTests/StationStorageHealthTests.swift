import ChargingCore
import HAL
import Station
import Storage
import Testing

/// A journal that cannot be written (disk full, read-only) must never let unbilled energy flow:
/// every connector goes Faulted with its contactor open, and comes back by itself once a write
/// succeeds. `PRAGMA query_only` makes SQLite refuse every write (SQLITE_READONLY) exactly as a
/// read-only data directory does, without root or a full disk.
@Suite("Station storage faults")
struct StationStorageHealthTests {
    func writes(_ rig: Rig, allowed: Bool) throws {
        try rig.station.storage.database.execute("PRAGMA query_only = \(allowed ? "OFF" : "ON")")
    }

    @Test func aJournalThatCannotBeWrittenFaultsEveryConnectorAndNoContactorCloses() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.step()
        #expect(rig.view(1)?.status == .available && !rig.station.storageUnavailable)
        try writes(rig, allowed: false)
        rig.plug(1)
        rig.step(until: { rig.view(1)?.pilot == .b })
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.setEV(1, .c)
        rig.step(until: { rig.station.storageUnavailable }, limit: 500)
        #expect(rig.station.storageUnavailable)
        for _ in 0..<500 { rig.step() }
        #expect(!rig.coil(1), "no session in the journal: no energy")
        for id in [1, 2] {
            #expect(rig.view(id)?.status == .faulted, "c\(id)")
            #expect(rig.view(id)?.error == .internalError, "c\(id)")
        }
        // Still read-only after a probe interval: still Faulted.
        rig.step(until: { false }, limit: Int(Station.storageProbeInterval.microseconds / 2_000) + 10)
        #expect(rig.view(2)?.status == .faulted)

        try writes(rig, allowed: true)
        let steps = rig.step(until: { !rig.station.storageUnavailable },
                             limit: Int(Station.storageProbeInterval.microseconds / 2_000) + 10)
        #expect(steps != nil, "cleared within one probe interval once writes succeed")
        rig.step()
        #expect(rig.view(2)?.status == .available)
        // The first write refused was the plug-in's (the next session's prelude): the station
        // faulted there, so the card opened no session; the EV is still plugged in.
        #expect(rig.view(1)?.status == .preparing, "no session was opened; the EV is still plugged")
        // Unplugged and plugged again, a card starts a billed session.
        rig.unplug(1)
        rig.step(until: { rig.view(1)?.status == .available })
        rig.plug(1)
        rig.step(until: { rig.view(1)?.pilot == .b })
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil, "\(String(describing: rig.view(1)))")
        rig.step(until: { (rig.pwm(1)?.dutyPercent ?? 100) < 100 }, limit: 3_000)
        rig.setEV(1, .c)
        #expect(rig.step(until: { rig.coil(1) }) != nil)
        let open = try rig.station.storage.journal.openSessions()
        #expect(open.map(\.id) == [rig.view(1)?.session?.id].compactMap { $0 }, "the session is in the journal")
    }

    @Test func aStationThatCannotWriteAtStartStartsFaulted() throws {
        let rig = try Rig()
        try writes(rig, allowed: false)
        try rig.station.start(at: rig.clock.now())
        rig.step()
        #expect(rig.station.storageUnavailable)
        #expect(rig.view(1)?.status == .faulted && rig.view(2)?.status == .faulted)
        try writes(rig, allowed: true)
        rig.step(until: { !rig.station.storageUnavailable }, limit: Int(Station.storageProbeInterval.microseconds / 2_000) + 10)
        rig.step()
        #expect(rig.view(1)?.status == .available)
    }

    /// Charging on connector 1 with the journal writable; the open session's id.
    func charging(_ rig: Rig) throws -> String {
        try rig.station.start(at: rig.clock.now())
        rig.step()
        rig.plug(1)
        rig.step(until: { rig.view(1)?.pilot == .b })
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.step(until: { (rig.pwm(1)?.dutyPercent ?? 100) < 100 }, limit: 3_000)
        rig.setEV(1, .c)
        #expect(rig.step(until: { rig.coil(1) }) != nil)
        return try #require(rig.view(1)?.session?.id)
    }

    func endedSessions(_ rig: Rig) throws -> [String: Double] {
        let rows = try rig.station.storage.database.query(
            "SELECT id, meter_stop_wh FROM sessions WHERE ended_at_ms IS NOT NULL") { (try $0.string(0), try $0.double(1)) }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    /// Found on a real full disk (Tests/Interop/test_evsed_disk_full.py): the end of a session
    /// that could not be written was dropped, so the backend never heard its stop until a restart.
    @Test func aSessionThatEndsWhileTheJournalFailsIsEndedInItOnceWritesSucceed() throws {
        let rig = try Rig()
        let id = try charging(rig)
        try writes(rig, allowed: false)
        rig.unplug(1)
        rig.step(until: { rig.view(1)?.session == nil })
        rig.step(until: { rig.station.storageUnavailable }, limit: 100)
        #expect(rig.station.storageUnavailable)
        #expect(try rig.station.storage.journal.openSessions().map(\.id) == [id], "the end could not be written yet")

        try writes(rig, allowed: true)
        rig.step(until: { !rig.station.storageUnavailable }, limit: Int(Station.storageProbeInterval.microseconds / 2_000) + 10)
        #expect(!rig.station.storageUnavailable)
        #expect(try rig.station.storage.journal.openSessions().isEmpty)
        #expect(try endedSessions(rig)[id] != nil, "the session is ended in the journal, with its meter stop")
    }

    /// Any writer of the database (a protocol adapter queueing MeterValues) that meets a full
    /// disk raises the fault: the station does not wait for its own next journal write.
    @Test func aStorageFailureOfAnotherWriterFaultsTheStation() throws {
        let rig = try Rig()
        _ = try charging(rig)
        try writes(rig, allowed: false)
        #expect(throws: StorageError.self) { try rig.station.storage.config.set("x", for: "adapter.write") }
        rig.step()
        #expect(rig.station.storageUnavailable)
        #expect(!rig.coil(1), "contactor open at the next step")
        try writes(rig, allowed: true)
    }

    @Test func aRefusedNonStorageWriteIsNotAStorageFault() throws {
        #expect(!StorageError.sessionAlreadyEnded("x").meansStorageUnavailable)
        #expect(!StorageError.invalidArgument("x").meansStorageUnavailable)
        #expect(StorageError.sqlite(code: 13, message: "database or disk is full", sql: nil).meansStorageUnavailable)
        #expect(StorageError.sqlite(code: 8, message: "attempt to write a readonly database", sql: nil).meansStorageUnavailable)
    }
}
