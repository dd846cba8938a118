import Drivers
import HAL
import Testing
@testable import EVSESimulator

/// The world stepped by hand: no clock, no sleeps.
@Suite struct WorldTests {
    static let t0 = MonotonicInstant(microseconds: 5_000_000)

    func world() -> World { World(config: .standard(connectors: 2), start: Self.t0) }

    /// What the firmware does to offer `amps`: duty = I / 0.6 at 1 kHz.
    func offer(_ w: inout World, amps: Double, connector: Int = 1) {
        var pwm = PilotPWM()
        pwm.periodNanoseconds = 1_000_000
        pwm.dutyNanoseconds = UInt64((amps / 0.6 * 10_000).rounded())
        pwm.configured = true
        w.setPWM("c\(connector).cp.pwm", pwm)
    }

    func events(_ w: inout World) -> [String] {
        w.drainOutputs().compactMap { if case let .event(kind, _, _, _) = $0 { return kind } else { return nil } }
    }

    @Test func unpluggedPilotIsStateAAtTwelveVolts() {
        let w = world()
        #expect(w.connectors[0].pilotState == .A)
        #expect(w.adcMillivolts["c1.cp.high"] == 12000)
        #expect(w.adcMillivolts["c1.cp.low"] == -12000)
        #expect(w.adcMillivolts["c1.pp"] == 5000)
    }

    @Test func pluggingPutsPilotInBAndCodesTheCableOnPP() throws {
        var w = world()
        try w.plug(connector: 1, cableA: 20)
        #expect(w.connectors[0].pilotState == .B)
        #expect(w.adcMillivolts["c1.cp.high"] == 9000)
        // 680 Ω against a 1 kΩ pull-up to 5 V.
        #expect(w.adcMillivolts["c1.pp"] == 2024)
        let out = w.drainOutputs()
        #expect(out.contains { if case let .adc(ch, mv, _) = $0 { return ch == "c1.cp.high" && mv == 9000 } else { return false } })
        #expect(out.contains { if case let .event(kind, c, _, _) = $0 { return kind == "pilot.state" && c == 1 } else { return false } })
    }

    @Test func pilotLevelsFollowTheEVAndThePWM() throws {
        var w = world()
        try w.plug(connector: 1)
        try w.setEVState(connector: 1, .C)
        #expect(w.connectors[0].pilotState == .C)
        try w.setEVState(connector: 1, .D)
        #expect(w.adcMillivolts["c1.cp.high"] == 3000)
        var off = PilotPWM()
        off.enabled = false
        off.configured = true
        w.setPWM("c1.cp.pwm", off)
        #expect(w.connectors[0].pilotState == .F)
        #expect(w.adcMillivolts["c1.cp.high"] == -12000)
        #expect(w.adcMillivolts["c1.cp.low"] == -12000)
    }

    @Test func pilotShortReadsStateEAndMissingDiodeLiftsTheLowLevel() throws {
        var w = world()
        try w.plug(connector: 1)
        try w.setFault(.diode, connector: 1, active: true)
        #expect(w.adcMillivolts["c1.cp.low"] == 0)
        #expect(w.connectors[0].pilotState == .B)
        try w.setFault(.pilotShort, connector: 1, active: true)
        #expect(w.connectors[0].pilotState == .E)
        #expect(w.adcMillivolts["c1.cp.high"] == 0)
    }

    @Test func evDrawsOfferedCurrentOnlyThroughClosedContacts() throws {
        var w = world()
        try w.plug(connector: 1, cableA: 32, profile: EVProfile(maxCurrentA: 32, phases: 3, capacityWh: 60_000, soc: 0.2))
        try w.setEVState(connector: 1, .C)
        offer(&w, amps: 16)
        #expect(w.connectors[0].currentA == [0, 0, 0])
        w.setOutput("c1.contactor.coil", true)
        #expect(w.connectors[0].contactorClosed)
        #expect(w.inputLevels["c1.contactor.feedback"] == true)
        #expect(w.connectors[0].currentA.map { ($0 * 10).rounded() / 10 } == [16, 16, 16])
        w.advance(by: .seconds(Int64(3600)))
        // 16 A × 3 × 230 V for an hour.
        #expect(abs(w.connectors[0].energyImportWh - 11_040) < 1)
        #expect(abs((w.connectors[0].ev?.soc ?? 0) - (0.2 + 11_040.0 / 60_000)) < 0.001)
    }

    @Test func currentIsTheMinimumOfEVCableAndOffer() throws {
        var w = world()
        try w.plug(connector: 1, cableA: 13, profile: EVProfile(maxCurrentA: 10, phases: 1))
        try w.setEVState(connector: 1, .C)
        offer(&w, amps: 32)
        w.setOutput("c1.contactor.coil", true)
        #expect(w.connectors[0].currentA == [10, 0, 0])
        try w.unplug(connector: 1)
        try w.plug(connector: 1, cableA: 13, profile: EVProfile(maxCurrentA: 32, phases: 3))
        try w.setEVState(connector: 1, .C)
        #expect(w.connectors[0].currentA == [13, 13, 13])
        w.setOutput("c1.phase.switch", false)
        #expect(w.connectors[0].currentA == [13, 0, 0])
    }

    @Test func phaseSwitchFollowsTheBoardsWiring() throws {
        var config = SimulatorConfig.standard(connectors: 1)
        config.connectors[0].phaseSwitch = PhaseSwitchWiring(threePhaseLevel: .low, unpowered: .one)
        var w = World(config: config, start: Self.t0)
        try w.plug(connector: 1, cableA: 32, profile: EVProfile(maxCurrentA: 16, phases: 3))
        try w.setEVState(connector: 1, .C)
        offer(&w, amps: 16)
        w.setOutput("c1.contactor.coil", true)
        // Undriven: where the relay's spring puts it.
        #expect(w.connectors[0].currentA == [16, 0, 0])
        #expect(w.level("c1.phase.switch") == true)
        w.setOutput("c1.phase.switch", false)
        #expect(w.connectors[0].currentA == [16, 16, 16])
        w.setOutput("c1.phase.switch", true)
        #expect(w.connectors[0].currentA == [16, 0, 0])
    }

    @Test func fullBatteryTapersAndGoesBackToB() throws {
        var w = world()
        try w.plug(connector: 1, profile: EVProfile(maxCurrentA: 16, phases: 3, capacityWh: 1_000, soc: 0.9))
        try w.setEVState(connector: 1, .C)
        offer(&w, amps: 16)
        w.setOutput("c1.contactor.coil", true)
        #expect(w.connectors[0].currentA[0] < 16)  // tapering above 80 %
        _ = w.drainOutputs()
        w.advance(by: .seconds(Int64(4 * 3600)))
        #expect(w.connectors[0].ev?.full == true)
        #expect(w.connectors[0].pilotState == .B)
        #expect(w.connectors[0].currentA == [0, 0, 0])
        #expect(throws: SimulatorError.self) { try w.setEVState(connector: 1, .C) }
    }

    @Test func weldedContactorStaysClosedAndFailedOneNeverCloses() throws {
        var w = world()
        w.setOutput("c1.contactor.coil", true)
        try w.setFault(.contactorWeld, connector: 1, active: true)
        w.setOutput("c1.contactor.coil", false)
        #expect(w.connectors[0].contactorClosed)
        #expect(w.inputLevels["c1.contactor.feedback"] == true)
        try w.setFault(.contactorWeld, connector: 1, active: false)
        #expect(!w.connectors[0].contactorClosed)
        try w.setFault(.contactorFailClose, connector: 2, active: true)
        w.setOutput("c2.contactor.coil", true)
        #expect(!w.connectors[1].contactorClosed)
        #expect(w.inputLevels["c2.contactor.feedback"] == false)
    }

    @Test func jammedLockKeepsItsPositionAndALockedCableStaysIn() throws {
        var w = world()
        try w.plug(connector: 1)
        w.setOutput("c1.lock.drive", true)
        #expect(w.inputLevels["c1.lock.feedback"] == true)
        try w.setFault(.lockJam, connector: 1, active: true)
        w.setOutput("c1.lock.drive", false)
        #expect(w.connectors[0].locked)
        #expect(throws: SimulatorError.conflict("connector 1: the cable is locked; unlock it first (or unplug with force)")) {
            try w.unplug(connector: 1)
        }
        try w.unplug(connector: 1, force: true)
        #expect(!w.connectors[0].plugged)
    }

    @Test func anEVSideUnplugLeavesTheLockedCableInTheSocket() throws {
        var w = world()
        try w.plug(connector: 1, cableA: 20)
        w.setOutput("c1.lock.drive", true)
        let pp = w.adcMillivolts["c1.pp"]
        try w.unplugEV(connector: 1)
        #expect(!w.connectors[0].plugged)
        #expect(w.connectors[0].pilotState == .A, "the EV is gone")
        #expect(w.adcMillivolts["c1.cp.high"] == 12000)
        #expect(w.adcMillivolts["c1.pp"] == pp, "the cable's coding is still read in the socket")
        #expect(w.connectors[0].locked)
        #expect(throws: SimulatorError.self) { try w.unplugEV(connector: 1) }
        // An EV on the same cable again, then the cable out of the (unlocked) socket.
        try w.plug(connector: 1)
        #expect(w.connectors[0].cableA == 20)
        #expect(w.connectors[0].pilotState == .B)
        try w.unplugEV(connector: 1)
        w.setOutput("c1.lock.drive", false)
        try w.unplug(connector: 1)
        #expect(w.connectors[0].cableA == nil)
        #expect(w.adcMillivolts["c1.pp"] == 5000)
    }

    @Test func faultInputsDriveTheirLines() throws {
        var w = world()
        _ = w.drainOutputs()
        try w.setFault(.rcd, connector: 2, active: true)
        try w.setFault(.estop, connector: nil, active: true)
        #expect(w.inputLevels["c2.rcd"] == true)
        #expect(w.inputLevels["estop"] == true)
        let edges = w.drainOutputs().compactMap { if case let .edge(line, edge, _) = $0 { return "\(line) \(edge)" } else { return nil } }
        #expect(edges == ["c2.rcd rising", "estop rising"])
        w.setOutput("c1.rcd.test", true)
        #expect(w.inputLevels["c1.rcd"] == true)
    }

    @Test func badInputChangesNothing() {
        var w = world()
        _ = w.drainOutputs()
        #expect(throws: SimulatorError.self) { try w.plug(connector: 7) }
        #expect(throws: SimulatorError.self) { try w.plug(connector: 1, cableA: 40) }
        #expect(throws: SimulatorError.self) { try w.plug(connector: 1, profile: EVProfile(phases: 2)) }
        #expect(throws: SimulatorError.self) { try w.plug(connector: 1, profile: EVProfile(soc: 1.5)) }
        #expect(throws: SimulatorError.self) { try w.setEVState(connector: 1, .C) }
        #expect(throws: SimulatorError.self) { try w.unplug(connector: 2) }
        #expect(throws: SimulatorError.self) { try w.presentCard(uidHex: "XYZ1") }
        #expect(throws: SimulatorError.self) { try w.setFault(.rcd, connector: nil, active: true) }
        #expect(!w.connectors[0].plugged)
        #expect(w.connectors[0].faults.isEmpty)
        #expect(w.drainOutputs().isEmpty)
    }

    @Test func offeredCurrentFollowsTheIECDutyTable() {
        #expect(PilotPWM.offeredCurrent(dutyPercent: 5) == 0)
        #expect(PilotPWM.offeredCurrent(dutyPercent: 10) == 6)
        #expect(abs(PilotPWM.offeredCurrent(dutyPercent: 26.7) - 16.02) < 0.01)
        #expect(abs(PilotPWM.offeredCurrent(dutyPercent: 100.0 / 6 * 1.6) - 16) < 1e-9)
        #expect(abs(PilotPWM.offeredCurrent(dutyPercent: 53.3) - 31.98) < 0.01)
        #expect(abs(PilotPWM.offeredCurrent(dutyPercent: 90) - 65) < 0.01)
        #expect(PilotPWM.offeredCurrent(dutyPercent: 97) == 0)
    }
}
