import ChargingCore
import HAL
import OCPP16
import OCPP201
import OCPPJSON
import Station
import Storage
import Locking
import Synchronization
import Testing

/// A system clock a test can step: it runs with the virtual clock from `startUnixMs`, and
/// `step(byMs:)` / `set(toUnixMs:)` move it as an operator, NTP or a dying RTC would.
final class SteppableWallClock: WallClock {
    let monotonic: VirtualClock
    private let base: Mutex<Int64>

    init(following monotonic: VirtualClock, startUnixMs: Int64) {
        self.monotonic = monotonic
        self.base = Mutex(startUnixMs - Int64(monotonic.now().microseconds / 1_000))
    }

    func unixMilliseconds() -> UInt64 {
        UInt64(max(0, base.locked { $0 } + Int64(monotonic.now().microseconds / 1_000)))
    }

    func step(byMs delta: Int64) { base.locked { $0 += delta } }

    func set(toUnixMs target: Int64) {
        let now = Int64(unixMilliseconds())
        step(byMs: target - now)
    }
}

@Suite("Station clock")
struct StationClockTests {
    static let floor = StationClock.defaultTrustedFromUnixMs
    /// 2027-01-15T08:00:00Z: "the true time" a CSMS or NTP gives.
    static let trueTime: UInt64 = 1_800_000_000_000

    // MARK: the clock alone

    @Test func unsetItReadsTheSystemClockAndStampsTheOffsetInEffect() {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: 5_000)
        let clock = StationClock(system: system, monotonic: mono, bootId: "boot-A")
        #expect(!clock.isSet)
        #expect(clock.unixMilliseconds() == 5_000)
        let stamp = clock.stamp()
        #expect(stamp.bootId == "boot-A")
        #expect(stamp.monotonicMs == 1_000)  // the virtual clock starts at 1 s
        #expect(stamp.unsetWallOffsetMs == 4_000)
    }

    @Test func aCSMSTimeSetsAnUnsetClockAndSaysByHowMuchToCorrect() {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: 5_000)
        let clock = StationClock(system: system, monotonic: mono, bootId: "boot-A")
        _ = mono.advance(by: .seconds(Int64(30)))
        guard case let .set(correction) = clock.adoptCentralSystemTime(Self.trueTime) else {
            Issue.record("the CSMS time did not set the clock")
            return
        }
        #expect(correction.source == .centralSystem)
        // A time read at 35 s on the unset clock was taken at trueTime.
        #expect(UInt64(35_000 + correction.deltaMs) == Self.trueTime)
        #expect(clock.isSet)
        #expect(clock.stamp().unsetWallOffsetMs == nil)
        _ = mono.advance(by: .seconds(Int64(10)))
        #expect(clock.unixMilliseconds() == Self.trueTime + 10_000)
    }

    @Test func aCSMSTimeBeforeTheFloorLeavesTheClockUnset() {
        let mono = VirtualClock()
        let clock = StationClock(system: SteppableWallClock(following: mono, startUnixMs: 0), monotonic: mono, bootId: "b")
        #expect(clock.adoptCentralSystemTime(86_400_000) == .kept(differenceMs: nil))
        #expect(!clock.isSet)
    }

    @Test func stepsOfTheSystemClockAfterItIsSetDoNotMoveTheStationClock() {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: Int64(Self.trueTime))
        let clock = StationClock(system: system, monotonic: mono, bootId: "b")
        #expect(clock.unixMilliseconds() == Self.trueTime)
        #expect(clock.source == .systemClock)
        for step: Int64 in [3_600_000, -7_200_000] {
            system.step(byMs: step)
            _ = mono.advance(by: .seconds(Int64(1)))
        }
        system.set(toUnixMs: 0)  // to 1970
        _ = mono.advance(by: .seconds(Int64(1)))
        #expect(clock.unixMilliseconds() == Self.trueTime + 3_000, "only monotonic time moved it")
        #expect(clock.takeCorrectionDue() == nil)
    }

    @Test func theSystemClockSetLaterByNTPOwesACorrectionOnce() {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: 2_000)
        let clock = StationClock(system: system, monotonic: mono, bootId: "b")
        #expect(clock.unixMilliseconds() == 2_000)
        _ = mono.advance(by: .seconds(Int64(60)))
        system.set(toUnixMs: Int64(Self.trueTime))
        let due = clock.takeCorrectionDue()
        #expect(due?.source == .systemClock)
        #expect(due.map { UInt64(2_000 + $0.deltaMs) } == Self.trueTime - 60_000, "what read 2 s happened 60 s before the sync")
        #expect(clock.takeCorrectionDue() == nil)
    }

    @Test func aCSMSRealignsOnlyAClockItSetAndOnlyBeyondTheTolerance() {
        let mono = VirtualClock()
        let fromCSMS = StationClock(system: SteppableWallClock(following: mono, startUnixMs: 0), monotonic: mono, bootId: "b")
        _ = fromCSMS.adoptCentralSystemTime(Self.trueTime)
        #expect(fromCSMS.adoptCentralSystemTime(Self.trueTime + 1_500) == .kept(differenceMs: 1_500), "latency, not a correction")
        #expect(fromCSMS.adoptCentralSystemTime(Self.trueTime + 60_000) == .realigned(byMs: 60_000))
        #expect(fromCSMS.unixMilliseconds() == Self.trueTime + 60_000)

        let fromSystem = StationClock(system: SteppableWallClock(following: mono, startUnixMs: Int64(Self.trueTime)),
                                      monotonic: mono, bootId: "b")
        #expect(fromSystem.adoptCentralSystemTime(Self.trueTime + 600_000) == .kept(differenceMs: 600_000))
        #expect(fromSystem.unixMilliseconds() == Self.trueTime)
    }

    @Test func timestampsBeforeTheFloorMoveAtAnyDepthAndOthersStay() throws {
        let early = OCPPTimestamp.string(unixMs: 10_000)
        let right = OCPPTimestamp.string(unixMs: Self.trueTime)
        let payload = """
            {"timestamp":"\(early)","meterValue":[{"timestamp":"\(early)","sampledValue":[{"value":"1"}]},\
            {"timestamp":"\(right)"}],"note":"\(early)"}
            """
        let shifted = try #require(OCPPTimestamp.shiftingTimestamps(inText: payload, recordedBeforeMs: Self.floor, byMs: 5_000))
        let json = try JSONParser.parse(shifted)
        let moved = OCPPTimestamp.string(unixMs: 15_000)
        #expect(json["timestamp"] == .string(moved))
        #expect(json["meterValue"]?.arrayValue?.first?["timestamp"] == .string(moved))
        #expect(json["meterValue"]?.arrayValue?.last?["timestamp"] == .string(right))
        #expect(json["note"] == .string(early), "only members named timestamp are times")
        #expect(OCPPTimestamp.shiftingTimestamps(inText: "not json", recordedBeforeMs: Self.floor, byMs: 5) == nil)
    }

    @Test func a201EventOfAnEarlierBootIsFlaggedOfflineAndOtherKindsAreLeft() throws {
        let flagged = try #require(TransactionEventService.flaggedUncorrectable(kind: "TransactionEvent", payload: #"{"seqNo":3,"offline":false}"#))
        #expect(try JSONParser.parse(flagged)["offline"] == .bool(true))
        #expect(TransactionEventService.flaggedUncorrectable(kind: "StatusNotification", payload: "{}") == nil)
    }

    // MARK: the station

    /// A station whose system clock starts at 1970 (no RTC battery), its 1.6 transaction
    /// messages queued through the real OCPP 1.6 service.
    func unsetRig(bootId: String = "boot-A") throws -> (Rig, SteppableWallClock) {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: 3_000)
        let clock = StationClock(system: system, monotonic: mono, bootId: bootId)
        let rig = try Rig(clock: mono, wallClock: clock)
        let transactions = TransactionService(journal: rig.station.storage.journal)
        rig.station.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
        rig.station.queuedMessageClockHooks = QueuedMessageClockHooks(
            shift: { TransactionService.shiftingTimestamps($0, floorMs: $1, deltaMs: $2) })
        try rig.station.start(at: mono.now())
        return (rig, system)
    }

    func queued(_ rig: Rig, _ kind: String) throws -> [OutboxMessage] {
        try rig.station.storage.journal.pending(limit: 100).filter { $0.kind == kind }
    }

    func timestamp(_ message: OutboxMessage) throws -> UInt64? {
        try JSONParser.parse(message.payload)["timestamp"]?.stringValue.flatMap(OCPPTimestamp.unixMs)
    }

    @Test func aSessionStartedBeforeTheCSMSGaveTheTimeIsCorrectedInTheJournalTheQueueAndTheCore() throws {
        let (rig, _) = try unsetRig()
        #expect(rig.startCharging(1))
        let session = try #require(rig.view(1)?.session)
        #expect(session.startedAtUnixMs < Self.floor, "started on the 1970 clock")
        let row = try #require(try rig.station.storage.journal.clockOfSession(session.id))
        #expect(row.bootId == "boot-A")
        #expect(row.unsetWallOffsetMs != nil)
        let startMono = try #require(row.monotonicMs)
        let start = try #require(try queued(rig, "StartTransaction").first)
        #expect(try rig.station.storage.journal.clockOfMessage(start.seq)?.unsetWallOffsetMs != nil)
        #expect(try timestamp(start).map { $0 < Self.floor } == true)
        for _ in 0..<200 { rig.step() }

        // The BootNotification answer: the CSMS says it is trueTime now.
        let nowMono = Int64(rig.clock.now().microseconds / 1_000)
        guard case .set = rig.station.adoptCentralSystemTime(Self.trueTime) else {
            Issue.record("the CSMS time did not set the clock")
            return
        }
        let expectedStart = Self.trueTime - UInt64(nowMono - startMono)
        let record = try #require(try rig.station.storage.journal.session(session.id))
        #expect(record.startedAtMs == Int64(expectedStart))
        #expect(record.updatedAtMs >= Int64(Self.floor))
        #expect(try rig.station.storage.journal.clockOfSession(session.id)?.unsetWallOffsetMs == nil)
        #expect(try rig.station.storage.journal.meterSamples(ofSession: session.id).allSatisfy { $0.takenAtMs >= Int64(Self.floor) })
        let corrected = try #require(try queued(rig, "StartTransaction").first)
        #expect(try timestamp(corrected) == expectedStart)
        #expect(rig.view(1)?.session?.startedAtUnixMs == expectedStart, "the core's open session too")

        // The stop, queued after the correction, carries right times, and the duration is the
        // monotonic time the session ran.
        for _ in 0..<500 { rig.step() }
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        let ended = try #require(try rig.station.storage.journal.session(session.id))
        let endedAt = try #require(ended.endedAtMs)
        let ranMs = Int64(rig.clock.now().microseconds / 1_000) - startMono
        #expect(abs((endedAt - ended.startedAtMs) - ranMs) <= 10)
        let stop = try #require(try queued(rig, "StopTransaction").first)
        #expect(try timestamp(stop) == UInt64(endedAt))
    }

    @Test func ntpSettingTheSystemClockCorrectsAtTheNextStep() throws {
        let (rig, system) = try unsetRig()
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        system.set(toUnixMs: Int64(Self.trueTime))
        rig.step()
        let record = try #require(try rig.station.storage.journal.session(id))
        #expect(record.startedAtMs >= Int64(Self.trueTime) - 60_000 && record.startedAtMs < Int64(Self.trueTime))
        let start = try #require(try queued(rig, "StartTransaction").first)
        #expect(try timestamp(start) == UInt64(record.startedAtMs))
    }

    @Test func messagesOfAnEarlierBootWithAnUnsetClockAreLeftAsRecordedAndReported() throws {
        let (rig, _) = try unsetRig(bootId: "boot-B")
        // What an earlier boot (its clock never set) left in the queue.
        let journal = rig.station.storage.journal
        let oldPayload = #"{"timestamp":"1970-01-01T00:00:07.000Z","meterStart":0}"#
        journal.stampRows(with: { JournalClockStamp(bootId: "boot-A", monotonicMs: 7_000, unsetWallOffsetMs: 0) })
        let seq = try journal.enqueue(kind: "StartTransaction", payload: oldPayload, atMs: 7_000)
        let clock = try #require(rig.station.stationClock)
        journal.stampRows(with: { clock.stamp() })
        guard case .set = rig.station.adoptCentralSystemTime(Self.trueTime) else {
            Issue.record("the CSMS time did not set the clock")
            return
        }
        let message = try #require(try journal.pending(limit: 10).first { $0.seq == seq })
        #expect(message.payload == oldPayload, "no offset of that boot is known: the time stays as recorded")
    }

    // MARK: steps of the wall clock mid-session

    /// A station whose clock was right at start (RTC or NTP), then the system clock steps.
    func setRig() throws -> (Rig, SteppableWallClock) {
        let mono = VirtualClock()
        let system = SteppableWallClock(following: mono, startUnixMs: Int64(Self.trueTime))
        let rig = try Rig(clock: mono, wallClock: StationClock(system: system, monotonic: mono, bootId: "boot-A"))
        try rig.station.start(at: mono.now())
        return (rig, system)
    }

    @Test(arguments: [Int64(3_600_000), -3_600_000, nil])
    func aStepMidSessionLeavesTheSessionDurationRight(step: Int64?) throws {
        let (rig, system) = try setRig()
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        let startMono = rig.clock.now()
        for _ in 0..<100 { rig.step() }
        if let step { system.step(byMs: step) } else { system.set(toUnixMs: 0) }
        for _ in 0..<400 { rig.step() }
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        let record = try #require(try rig.station.storage.journal.session(id))
        let ranMs = Int64((rig.clock.now() - startMono).microseconds / 1_000)
        let journaled = try #require(record.endedAtMs) - record.startedAtMs
        #expect(abs(journaled - ranMs) <= 10, "journaled \(journaled) ms, ran \(ranMs) ms")
        #expect(record.startedAtMs >= Int64(Self.trueTime) && record.startedAtMs < Int64(Self.trueTime) + 60_000)
        #expect(try rig.station.storage.journal.meterSamples(ofSession: id).allSatisfy { $0.takenAtMs >= record.startedAtMs })
    }

    @Test(arguments: [Int64(3_600_000), -3_600_000, nil])
    func aCachedAuthorizationNeitherExpiresEarlyNorLivesOnBecauseOfAStep(step: Int64?) throws {
        let (rig, system) = try setRig()
        rig.station.useAuthorizationBackend(NoAuthorizationBackend(), online: true)  // offline: the cache decides
        rig.station.readMetersNow(at: rig.clock.now())
        let wall = rig.station.wallClock.unixMilliseconds()
        rig.station.rememberAuthorization(IdToken("CACHED1"), AuthorizationInfo(status: .accepted, expiresAtUnixMs: wall + 600_000))
        if let step { system.step(byMs: step) } else { system.set(toUnixMs: 0) }

        // Five minutes later (monotonic): still valid, whatever the step.
        for _ in 0..<300 { _ = rig.clock.advance(by: .seconds(Int64(1))); rig.step() }
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("CACHED1"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil, "expired early")
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)

        // Eleven minutes after it was cached: expired, whatever the step.
        for _ in 0..<360 { _ = rig.clock.advance(by: .seconds(Int64(1))); rig.step() }
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("CACHED1"), at: rig.clock.now())
        for _ in 0..<200 { rig.step() }
        #expect(rig.view(1)?.session == nil, "lived on past its expiry")
    }

    @Test(arguments: [Int64(7_200_000), -7_200_000, nil])
    func anAbsoluteProfileWindowFollowsTheStationClockNotAStepOfTheSystemClock(step: Int64?) throws {
        let (rig, system) = try setRig()
        #expect(rig.startCharging(1))
        let now = Int64(rig.station.wallClock.unixMilliseconds() / 1_000)
        var profiles = CompositeScheduleCalculator()
        profiles.install(try InstalledChargingProfile(connectorId: 0, profile: ChargingProfile(
            id: 7, stackLevel: 0, purpose: .txDefaultProfile, kind: .absolute,
            schedule: ChargingSchedule(unit: .amps, periods: [ChargingSchedulePeriod(startPeriod: 0, limit: 10),
                                                              ChargingSchedulePeriod(startPeriod: 60, limit: 16)],
                                       startSchedule: now))))
        rig.station.installChargingProfiles(profiles)
        func duty(_ amps: Double) -> Bool { abs((rig.pwm(1)?.dutyPercent ?? 0) - amps / 0.6) < 0.1 }
        #expect(rig.step(until: { duty(10) }) != nil)
        if let step { system.step(byMs: step) } else { system.set(toUnixMs: 0) }
        for _ in 0..<1_000 { rig.step() }
        #expect(duty(10), "the first period still applies after the step")
        for _ in 0..<60 { _ = rig.clock.advance(by: .seconds(Int64(1))); rig.meter(1, addWh: 3, amps: 10) }
        #expect(rig.step(until: { duty(16) }) != nil, "the second period begins 60 s of station time later: duty \(String(describing: rig.pwm(1))), \(String(describing: rig.view(1)?.status)), wall \(rig.station.wallClock.unixMilliseconds() / 1_000 - UInt64(now)) s")
    }
}
