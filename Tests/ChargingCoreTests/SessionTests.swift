import ChargingCore
import HAL
import Testing

@Suite("Sessions and recovery")
struct SessionTests {
    static func openSession(meterStart: Double = 1_000, samples: [Double] = []) -> Session {
        Session(id: "s-1", connectorId: 1, idToken: IdToken("CARD1"), startReason: .local, meterStartWh: meterStart,
                startedAtUnixMs: 1_000, sampledValues: samples.map { SampledValue(atUnixMs: 2_000, energyWh: $0) })
    }

    @Test("session ids are UUID-shaped (version 4 layout) and do not repeat")
    func sessionIds() {
        var g = SessionIdGenerator(seed: 42)
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = g.next()
            #expect(id.count == 36)
            let parts = id.split(separator: "-").map(\.count)
            #expect(parts == [8, 4, 4, 4, 12])
            #expect(Array(id)[14] == "4")
            #expect("89ab".contains(Array(id)[19]))
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        var other = SessionIdGenerator(seed: 43)
        var again = SessionIdGenerator(seed: 42)
        #expect(other.next() != again.next())
    }

    @Test("a session ends once; a register that went backwards bills no negative energy")
    func endOnce() {
        var s = Self.openSession()
        let first = s.end(reason: .local, meterStopWh: 1_500, atUnixMs: 9_000)
        let second = s.end(reason: .powerLoss, meterStopWh: 9_999, atUnixMs: 10_000)
        #expect(first)
        #expect(!second)
        #expect(s.stopReason == .local && s.meterStopWh == 1_500 && s.energyWh == 500)
        var back = Self.openSession()
        back.end(reason: .local, meterStopWh: 10, atUnixMs: 1)
        #expect(back.energyWh == 0)
    }

    @Test("OCPP 1.6 reasons: 2.0.1-only reasons map to Other")
    func ocpp16Reasons() {
        #expect(StopReason.evDisconnected.ocpp16 == "EVDisconnected")
        #expect(StopReason.overcurrentFault.ocpp16 == "Other")
        #expect(StopReason.groundFault.ocpp16 == "Other")
        #expect(StopReason.powerLoss.ocpp16 == "PowerLoss")
    }

    @Test("recovery: no open session, or one already ended → nothing")
    func nothingToRecover() {
        let hw = HardwareSnapshot(vehiclePlugged: true, contactor: .open, meterEnergyWh: 2_000, unixMs: 5_000)
        #expect(SessionRecovery.decide(openSession: nil, hardware: hw, policy: .resumeIfPlugged) == .nothing)
        var ended = Self.openSession()
        ended.end(reason: .local, meterStopWh: 1_200, atUnixMs: 3_000)
        #expect(SessionRecovery.decide(openSession: ended, hardware: hw, policy: .endSession) == .nothing)
    }

    @Test("recovery: plugged, healthy, meter readable and policy resume → resume")
    func resume() {
        let s = Self.openSession(samples: [1_400])
        let hw = HardwareSnapshot(vehiclePlugged: true, contactor: .open, meterEnergyWh: 1_450, unixMs: 5_000)
        #expect(SessionRecovery.decide(openSession: s, hardware: hw, policy: .resumeIfPlugged) == .resume(s))
    }

    @Test("recovery ends with PowerLoss and meter stop = register now, persisted before notified",
          arguments: [
            HardwareSnapshot(vehiclePlugged: false, contactor: .open, meterEnergyWh: 1_700, unixMs: 5_000),
            HardwareSnapshot(vehiclePlugged: true, contactor: .welded, meterEnergyWh: 1_700, unixMs: 5_000),
            HardwareSnapshot(vehiclePlugged: true, contactor: .closed, meterEnergyWh: 1_700, unixMs: 5_000),
          ])
    func endOnPowerLoss(hw: HardwareSnapshot) {
        let s = Self.openSession(samples: [1_400])
        let policy: PowerLossPolicy = hw.contactor == .closed ? .endSession : .resumeIfPlugged
        guard case let .end(ended, commands) = SessionRecovery.decide(openSession: s, hardware: hw, policy: policy) else {
            Issue.record("expected the session to end")
            return
        }
        #expect(ended.stopReason == .powerLoss)
        #expect(ended.meterStopWh == 1_700)
        #expect(ended.stoppedAtUnixMs == 5_000)
        #expect(ended.energyWh == 700)
        let persist = commands.firstIndex(of: .persist(.ended(ended)))
        let notify = commands.firstIndex(of: .sessionEnded(ended))
        #expect(persist != nil && notify != nil)
        if let persist, let notify { #expect(persist < notify) }
        #expect(commands.contains(.openContactor(.notPermitted)) == (hw.contactor != .open))
    }

    @Test("recovery without a meter reading, or with a register that went backwards, uses the last persisted reading")
    func endWithoutMeter() {
        let s = Self.openSession(samples: [1_400, 1_600])
        for reading in [nil, 900.0] as [Double?] {
            let hw = HardwareSnapshot(vehiclePlugged: true, contactor: .open, meterEnergyWh: reading, unixMs: 5_000)
            guard case let .end(ended, _) = SessionRecovery.decide(openSession: s, hardware: hw, policy: .resumeIfPlugged) else {
                Issue.record("expected the session to end for reading \(String(describing: reading))")
                continue
            }
            #expect(ended.meterStopWh == 1_600)
        }
    }

    @Test("crash mid-session: the recovered machine ends the session once, with the right energy")
    func crashAndRecover() {
        var h = ConnectorHarness()
        h.startSession()
        h.send(.pilotChanged(.c))
        // What the database holds: the last persisted record of the open session.
        var persisted: Session?
        h.now = h.now + .milliseconds(60_000)
        h.send(.meterSample(MeterSample(energyWh: 2_000, currentsA: [16])))
        for c in h.log {
            if case let .persist(.started(s)) = c { persisted = s }
            if case let .persist(.sampled(id, value)) = c, id == persisted?.id { persisted?.sampledValues.append(value) }
        }
        #expect(persisted?.lastKnownEnergyWh == 2_000)
        #expect(persisted?.isEnded == false)
        // Restart: the EV left while the daemon was down, the meter moved on.
        let hw = HardwareSnapshot(vehiclePlugged: false, contactor: .open, meterEnergyWh: 3_500, unixMs: 99_000)
        guard case let .end(ended, commands) = SessionRecovery.decide(openSession: persisted, hardware: hw, policy: .resumeIfPlugged) else {
            Issue.record("expected an end")
            return
        }
        #expect(ended.energyWh == 2_500)
        #expect(commands.filter { if case .sessionEnded = $0 { true } else { false } }.count == 1)
        // Deciding again on the (now ended) record does nothing.
        #expect(SessionRecovery.decide(openSession: ended, hardware: hw, policy: .resumeIfPlugged) == .nothing)
    }
}
