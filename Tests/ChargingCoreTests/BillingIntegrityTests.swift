import ChargingCore
import HAL
import Testing

/// The defects that lost or misbilled energy (a stop forgotten in a crash, a card that could not
/// stop a remotely started session, a meter stop from a stale poll), each pinned at the core.
@Suite("Billing integrity of the connector machine")
struct BillingIntegrityTests {
    /// Charging on a session a remote start opened for `tag`, EV in C.
    func remotelyStarted(_ tag: String = "CARD1", config: ConnectorConfig = ConnectorConfig(fixedCableAmps: 32)) -> ConnectorHarness {
        var h = ConnectorHarness(config)
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        h.send(.remoteStart(IdToken(tag, kind: .central), parentIdToken: nil))
        h.send(.pilotChanged(.b))
        h.send(.pilotChanged(.c))
        return h
    }

    @Test func aCardStopsTheSessionARemoteStartOpenedForItsIdTag() throws {
        var h = remotelyStarted()
        #expect(h.contactorClosed)
        #expect(h.machine.session?.idToken.kind == .central)
        h.send(.pilotChanged(.b))
        let out = h.send(.authorizationRequested(IdToken("card1", kind: .iso14443)))
        #expect(!out.contains { if case .authorize = $0 { true } else { false } },
                "the card is recognised as the session's own: no Authorize, nothing armed")
        let ended = try #require(out.endedSessions.first)
        #expect(ended.stopReason == .local)
        #expect(ended.stopIdToken == nil, "stopped by the same identifier that started it")
    }

    @Test func aStopIsPersistedWhileTheContactorWaitsForTheEVToStopDrawing() throws {
        var h = remotelyStarted()
        let out = h.send(.stopRequested(.remote))
        #expect(!out.opens, "the EV gets its 6 s to leave C after the PWM is withdrawn")
        #expect(out.contains(.persist(.stopRequested(sessionId: try #require(h.machine.session?.id), RequestedStop(reason: .remote)))))
        #expect(h.machine.session?.requestedStop == RequestedStop(reason: .remote))
        #expect(h.status == .finishing)
        // A second request neither replaces the first nor writes again.
        let again = h.send(.stopRequested(.deAuthorized))
        #expect(!again.contains { if case .persist(.stopRequested) = $0 { true } else { false } })
        h.advance(.seconds(Int64(6)))
        #expect(h.log.endedSessions.first?.stopReason == .remote)
    }

    @Test func aSessionEndedInTheSameCallWritesNoSeparateStopRequest() {
        var h = remotelyStarted()
        h.send(.pilotChanged(.b))
        let out = h.send(.stopRequested(.remote))
        #expect(out.endedSessions.count == 1)
        #expect(!out.contains { if case .persist(.stopRequested) = $0 { true } else { false } })
    }

    @Test func aRecoveredSessionWithAnAcceptedStopIsEndedNotResumedEvenWithTheEVPlugged() throws {
        var open = Session(id: "s1", connectorId: 1, idToken: IdToken("CARD1", kind: .central), startReason: .remote,
                           meterStartWh: 1_000, startedAtUnixMs: ConnectorHarness.epochMs)
        open.requestedStop = RequestedStop(reason: .remote)
        let decision = SessionRecovery.decide(
            openSession: open, hardware: HardwareSnapshot(vehiclePlugged: true, contactor: .open, meterEnergyWh: 1_017, unixMs: 5),
            policy: .resumeIfPlugged)
        guard case let .end(ended, commands) = decision else {
            Issue.record("expected the session to end, got \(decision)")
            return
        }
        #expect(ended.stopReason == .remote)
        #expect(ended.meterStopWh == 1_017)
        #expect(commands.contains(.persist(.ended(ended))))

        // The machine itself never resumes such a session either.
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_017)))
        h.send(.pilotChanged(.c))
        h.record(h.machine.resume(open, at: h.now, unixMs: h.unixMs))
        #expect(!h.contactorClosed)
        #expect(h.log.endedSessions.first?.stopReason == .remote)
    }

    // MARK: The final meter reading

    func withFinalReading() -> ConnectorHarness {
        remotelyStarted(config: ConnectorConfig(fixedCableAmps: 32, finalMeterReadingTimeout: .seconds(Int64(3))))
    }

    @Test func theMeterStopIsAReadingTakenAfterTheContactorOpened() throws {
        var h = withFinalReading()
        h.send(.meterSample(MeterSample(energyWh: 1_500)))
        let out = h.send(.pilotChanged(.a))
        #expect(out.opens)
        #expect(out.contains(.readMeterNow))
        #expect(out.endedSessions.isEmpty, "not before the final reading")
        #expect(h.status == .available, "the wait for the reading is no status of its own")
        // A reading taken before the request (a poll in flight) does not count…
        h.send(.meterSample(MeterSample(energyWh: 1_501, readAt: h.now - .milliseconds(1))))
        #expect(h.log.endedSessions.isEmpty)
        // …the one taken after it does.
        h.now = h.now + .milliseconds(40)
        let end = h.send(.meterSample(MeterSample(energyWh: 1_502.4, readAt: h.now)))
        let ended = try #require(end.endedSessions.first)
        #expect(ended.meterStopWh == 1_502.4)
        #expect(ended.stopReason == .evDisconnected)
        #expect(end.persistedEnd != nil)
    }

    @Test func aMeterThatDoesNotAnswerEndsTheSessionAfterTheTimeoutWithTheLastReading() throws {
        var h = withFinalReading()
        h.send(.meterSample(MeterSample(energyWh: 1_200)))
        h.send(.stopRequested(.remote))
        h.send(.pilotChanged(.b))
        #expect(h.log.contains(.readMeterNow))
        h.advance(.milliseconds(2_999))
        #expect(h.log.endedSessions.isEmpty)
        h.advance(.milliseconds(1))
        #expect(h.log.endedSessions.first?.meterStopWh == 1_200)
        #expect(h.status == .finishing)
    }

    // MARK: A token refused after the start, the transaction kept open

    @Test func aDeauthorizedSessionStaysOpenWithoutEnergyUntilStopped() throws {
        var h = remotelyStarted()
        #expect(h.contactorClosed)
        h.send(.pilotChanged(.b))
        let id = try #require(h.machine.session?.id)
        let out = h.send(.deauthorized())
        #expect(out.contains(.persist(.deauthorized(sessionId: id, energyLimitWh: nil))))
        #expect(h.pilotCommand == .notReady, "the PWM is withdrawn")
        #expect(h.status == .suspendedEVSE)
        #expect(h.machine.session?.deauthorized == true)
        // The EV asks again: nothing closes.
        h.send(.pilotChanged(.c))
        h.advance(.seconds(Int64(10)))
        #expect(!h.contactorClosed)
        #expect(h.machine.session?.id == id, "the transaction stays open")
        #expect(h.send(.deauthorized()).isEmpty, "once")
        let end = h.send(.stopRequested(.deAuthorized))
        #expect(end.endedSessions.first?.stopReason == .deAuthorized)
    }

    @Test func aRecoveredDeauthorizedSessionGetsNoEnergyBack() {
        var open = Session(id: "s1", connectorId: 1, idToken: IdToken("CARD1"), startReason: .local,
                           meterStartWh: 1_000, startedAtUnixMs: ConnectorHarness.epochMs)
        open.deauthorized = true
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        h.send(.pilotChanged(.c))
        h.record(h.machine.resume(open, at: h.now, unixMs: h.unixMs))
        h.advance(.seconds(Int64(5)))
        #expect(!h.contactorClosed)
        #expect(h.machine.session?.id == "s1")
        #expect(h.status == .suspendedEVSE)
    }

    // MARK: MaxEnergyOnInvalidId

    @Test func aRefusedSessionDrawsItsAllowanceOnTheMeterThenNoMore() throws {
        var h = remotelyStarted()
        h.send(.meterSample(MeterSample(energyWh: 1_400)))
        #expect(h.contactorClosed)
        let id = try #require(h.machine.session?.id)
        // 250 Wh more than the reading at the refusal.
        let out = h.send(.deauthorized(energyAllowanceWh: 250))
        #expect(out.contains(.persist(.deauthorized(sessionId: id, energyLimitWh: 1_650))))
        #expect(h.machine.session?.deauthorizedEnergyLimitWh == 1_650)
        h.advance(.seconds(Int64(5)))
        #expect(h.contactorClosed && h.status == .charging, "still within the allowance")
        h.send(.meterSample(MeterSample(energyWh: 1_649)))
        #expect(h.pilotCommand != .notReady)
        h.send(.meterSample(MeterSample(energyWh: 1_650)))
        #expect(h.pilotCommand == .notReady, "the PWM is withdrawn at the limit")
        h.send(.pilotChanged(.b))
        h.advance(.seconds(Int64(5)))
        #expect(!h.contactorClosed && h.status == .suspendedEVSE)
        #expect(h.machine.session?.id == id, "the transaction stays open")
        // A second refusal does not move the limit.
        #expect(h.send(.deauthorized(energyAllowanceWh: 10_000)).isEmpty)
        h.send(.pilotChanged(.c))
        h.advance(.seconds(Int64(5)))
        #expect(!h.contactorClosed)
    }

    @Test func aRecoveredSessionKeepsItsAllowanceLimit() {
        var open = Session(id: "s1", connectorId: 1, idToken: IdToken("CARD1"), startReason: .local,
                           meterStartWh: 1_000, startedAtUnixMs: ConnectorHarness.epochMs)
        open.deauthorized = true
        open.deauthorizedEnergyLimitWh = 1_300
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_100)))
        h.send(.pilotChanged(.c))
        h.record(h.machine.resume(open, at: h.now, unixMs: h.unixMs))
        h.advance(.seconds(Int64(5)))
        #expect(h.contactorClosed, "200 Wh are still allowed")
        h.send(.meterSample(MeterSample(energyWh: 1_300)))
        h.send(.pilotChanged(.b))
        h.advance(.seconds(Int64(5)))
        #expect(!h.contactorClosed && h.status == .suspendedEVSE)
    }

    @Test func theSessionCarriesTheCableRatingItStartedWith() {
        let h = remotelyStarted(config: ConnectorConfig(fixedCableAmps: 20))
        #expect(h.machine.session?.cableMaxCurrentA == 20)
    }
}
