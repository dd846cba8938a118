import ChargingCore
import HAL
import Station
import Storage
import Testing

/// The defects that lost or misbilled energy, end to end through the loop on the fake board:
/// each session change travels with the message it owes the backend, an accepted stop survives
/// a crash, a card stops the session started remotely for it, the meter stop is read at the end.
@Suite("Station billing integrity")
struct StationBillingTests {
    /// A backend's outbox in miniature: one row per session start and end, queued through the
    /// journal writer the station hands over, or a refusal for the kinds in `refusing`.
    static func outbox(refusing: Set<String> = []) -> SessionMessagesOwed {
        { change, journal in
            let kind: String
            let id: String
            switch change {
            case let .started(s): (kind, id) = ("Start", s.id)
            case let .ended(s): (kind, id) = ("Stop", s.id)
            default: return
            }
            struct Refused: Error {}
            if refusing.contains(kind) { throw Refused() }
            try journal.enqueue(kind: kind, payload: "{}", sessionId: id, atMs: 0)
        }
    }

    @Test func aSessionStartAndEndAreWrittenTogetherWithTheirMessages() throws {
        let rig = try Rig()
        rig.station.sessionMessagesOwed = Self.outbox()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["Start"])
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["Start", "Stop"])
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.sessionId) == [id, id])
    }

    @Test func anEndWhoseMessageCannotBeQueuedIsNotWrittenEither() throws {
        let rig = try Rig()
        rig.station.sessionMessagesOwed = Self.outbox(refusing: ["Stop"])
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.unplug(1)
        for _ in 0..<50 { rig.step() }
        #expect(try rig.station.storage.journal.session(id)?.isOpen == true,
                "both or neither: the open session is what the next start recovers")
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["Start"])
        // The restart ends it (the EV is gone) and this time the stop is queued with the end.
        rig.station.sessionMessagesOwed = nil
        let restarted = try Rig.makeStation(fake: rig.fake, clock: rig.clock, board: rig.board,
                                            dataDirectory: rig.dataDirectory, config: nil)
        restarted.sessionMessagesOwed = Self.outbox()
        rig.station = restarted
        let report = try restarted.start(at: rig.clock.now())
        #expect(report.ended == [id])
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["Start", "Stop"])
    }

    @Test func aSessionStartWhoseMessageCannotBeQueuedNeverClosesTheContactor() throws {
        let rig = try Rig()
        rig.station.sessionMessagesOwed = Self.outbox(refusing: ["Start"])
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        rig.setEV(1, .c)
        for _ in 0..<500 {
            rig.step()
            #expect(!rig.coil(1))
        }
        #expect(try rig.station.storage.journal.openSessions().isEmpty)
        #expect(try rig.station.storage.journal.pendingCount() == 0)
    }

    @Test func anAcceptedRemoteStopSurvivesACrashBeforeTheContactorOpens() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 700, amps: 30)
        #expect(!rig.station.stopSession(connector: 1, sessionId: "another", reason: .remote, at: rig.clock.now()))
        #expect(rig.station.stopSession(connector: 1, sessionId: id, reason: .remote, at: rig.clock.now()))
        // The EV stays in C: the contactor waits for it (up to 6 s) — and the daemon dies now.
        rig.step()
        #expect(rig.coil(1))
        #expect(try rig.station.storage.journal.session(id)?.stopRequestedReason == "Remote")
        rig.energyWh[1, default: 0] += 4
        let report = try rig.restart()
        #expect(report.ended == [id])
        #expect(report.resumed.isEmpty)
        let stored = try #require(try rig.station.storage.journal.session(id))
        #expect(stored.stopReason == "Remote")
        #expect(abs((stored.meterStopWh ?? 0) - 1_704) < 0.01)
        for _ in 0..<500 {
            rig.step()
            #expect(!rig.coil(1), "no energy after the stop the CSMS heard accepted")
        }
        #expect(rig.view(1)?.session == nil)
    }

    @Test func aCardStopsTheSessionStartedRemotelyForItAndArmsNoOtherConnector() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.station.remoteStart(connector: 1, idToken: IdToken("A1B2C3", kind: .central), at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        rig.setEV(1, .b)
        for _ in 0..<20 { rig.step() }
        rig.station.presentCard(IdToken("A1B2C3"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        #expect(rig.view(2)?.status == .available, "the card was for the running session, not for connector 2")
        let stored = try #require(try rig.station.storage.journal.recentSessions(limit: 1).first)
        #expect(stored.stopReason == "Local")
        // An EV plugged in at connector 2 now waits for its own card.
        rig.plug(2)
        for _ in 0..<200 { rig.step() }
        #expect(rig.view(2)?.session == nil)
    }

    @Test func theMeterStopIsReadWhenTheSessionEndsNotTakenFromTheLastPoll() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        rig.meter(1, addWh: 1_000, amps: 32)  // the last periodic poll: 2,000 Wh
        rig.energyWh[1, default: 0] += 2.5   // delivered since, not polled
        rig.writeMeters()
        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        let stored = try #require(try rig.station.storage.journal.session(id))
        #expect(abs((stored.meterStopWh ?? 0) - 2_002.5) < 0.001)
    }

    @Test func aDeauthorizedSessionKeepsItsEnergyWithheldAcrossARestart() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        #expect(!rig.station.deauthorizeSession(connector: 1, sessionId: "another", at: rig.clock.now()))
        #expect(rig.station.deauthorizeSession(connector: 1, sessionId: id, at: rig.clock.now()))
        #expect(try rig.station.storage.journal.session(id)?.deauthorizedAtMs != nil)
        // The EV stays in C: the PWM is withdrawn, the contactor opens at the latest after 6 s.
        #expect(rig.step(until: { !rig.coil(1) }, limit: 4_000) != nil)
        #expect(rig.view(1)?.session?.id == id)
        let report = try rig.restart()
        #expect(report.resumed == [id], "the transaction stays open")
        for _ in 0..<500 {
            rig.step()
            #expect(!rig.coil(1), "no energy for a refused token, restart or not")
        }
        #expect(rig.view(1)?.status == .suspendedEVSE)
    }

    @Test func aRefusedSessionDrawsMaxEnergyOnInvalidIdAcrossARestartThenNoMore() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let id = try #require(rig.view(1)?.session?.id)
        #expect(rig.station.deauthorizeSession(connector: 1, sessionId: id, energyAllowanceWh: 300, at: rig.clock.now()))
        let limit = try #require(try rig.station.storage.journal.session(id)?.deauthorizedEnergyLimitWh)
        rig.meter(1, addWh: 100)
        for _ in 0..<300 { rig.step() }
        #expect(rig.coil(1), "200 Wh of the allowance are left")
        let report = try rig.restart()
        #expect(report.resumed == [id])
        #expect(try rig.station.storage.journal.session(id)?.deauthorizedEnergyLimitWh == limit, "the limit survives the restart")
        #expect(rig.step(until: { rig.coil(1) }, limit: 4_000) != nil, "charging goes on within the allowance")
        rig.meter(1, addWh: 250)
        #expect(rig.step(until: { !rig.coil(1) }, limit: 8_000) != nil, "the allowance is used up")
        #expect(rig.view(1)?.session?.id == id, "the transaction stays open")
        #expect(rig.view(1)?.status == .suspendedEVSE)
    }
}
