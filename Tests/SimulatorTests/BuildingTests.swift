import Drivers
import HAL
import Testing
@testable import EVSESimulator

/// The building behind the grid connection: house load, PV, and the grid meter that sees them
/// with the chargers. Stepped by hand, no clock.
@Suite struct BuildingTests {
    static let t0 = MonotonicInstant(microseconds: 5_000_000)

    func world() -> World { World(config: .standard(connectors: 2), start: Self.t0) }

    func offer(_ w: inout World, amps: Double, connector: Int) {
        var pwm = PilotPWM()
        pwm.periodNanoseconds = 1_000_000
        pwm.dutyNanoseconds = UInt64((amps / 0.6 * 10_000).rounded())
        pwm.configured = true
        w.setPWM("c\(connector).cp.pwm", pwm)
    }

    /// Connector `id` charging a 3-phase EV at `amps`.
    func charge(_ w: inout World, connector id: Int, amps: Double, phases: Int = 3) throws {
        try w.plug(connector: id, cableA: 32, profile: EVProfile(maxCurrentA: 32, phases: phases))
        try w.setEVState(connector: id, .C)
        offer(&w, amps: amps, connector: id)
        w.setOutput("c\(id).contactor.coil", true)
    }

    @Test func gridCurrentIsHouseLoadPlusChargersMinusPV() throws {
        var w = world()
        try w.setHouseLoad([10, 5, 0])
        try charge(&w, connector: 1, amps: 16)
        // (16 A as the PWM's duty resolution gives it.)
        let c = w.chargersCurrentA
        #expect(c.allSatisfy { abs($0 - 16) < 0.01 })
        let before = w.gridCurrentA
        #expect(zip(before, [26.0, 21, 16]).allSatisfy { abs($0 - $1) < 0.01 })
        // 6.9 kW of PV on three phases: 10 A per phase at 230 V.
        try w.setPV(watts: 6900)
        let g = w.gridCurrentA
        #expect(zip(g, [16.0, 11, 6]).allSatisfy { abs($0 - $1) < 0.01 })
    }

    @Test func exportIsNegativePowerWithCurrentMagnitudes() throws {
        var w = world()
        try w.setHouseLoad([2])
        try w.setPV(watts: 9200)   // 13.33 A per phase out, 2 A in
        let v = w.gridMeterValues()
        let perPhase = 2 - 9200.0 / 690
        #expect(abs((v[.currentL1] ?? 0) - abs(perPhase)) < 1e-9)
        #expect((v[.activePowerL1] ?? 0) < 0)
        #expect(abs((v[.activePowerTotal] ?? 0) - 3 * perPhase * 230) < 1e-6)
        let json = w.gridJSON()
        #expect(json["export_w"]?.number == (-3 * perPhase * 230).rounded())
        #expect(json["import_w"]?.number == 0)
    }

    @Test func countersIntegrateImportExportAndPV() throws {
        var w = world()
        try w.setHouseLoad([10])             // 6.9 kW
        w.advance(by: .seconds(Int64(3600)))
        #expect(abs(w.building.importWh - 6900) < 1e-6)
        try w.setPV(watts: 10_000)          // 3.1 kW out
        w.advance(by: .seconds(Int64(1800)))
        #expect(abs(w.building.exportWh - 1550) < 1e-6)
        #expect(abs(w.building.pvProducedWh - 5000) < 1e-6)
        #expect(abs(w.building.importWh - 6900) < 1e-6)
    }

    @Test func pvDayCurveInterpolatesInCompressedTime() throws {
        var w = world()
        let curve = try PVDayCurve(points: [.init(hour: 6, watts: 0), .init(hour: 12, watts: 9000), .init(hour: 18, watts: 0)],
                                   secondsPerHour: 10)
        w.setPVCurve(curve)
        #expect(w.building.pvWatts(at: w.now) == 0)
        w.advance(by: .seconds(Int64(30)))    // 9:00
        #expect(abs(w.building.pvWatts(at: w.now) - 4500) < 1e-6)
        w.advance(by: .seconds(Int64(30)))    // noon
        #expect(abs(w.building.pvWatts(at: w.now) - 9000) < 1e-6)
        w.advance(by: .seconds(Int64(600)))   // night
        #expect(w.building.pvWatts(at: w.now) == 0)
        // A fixed output ends the curve.
        try w.setPV(watts: 1000)
        #expect(w.building.pvCurve == nil && w.building.pvWatts(at: w.now) == 1000)
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        var w = world()
        try w.setHouseLoad([4, 5, 6])
        #expect(throws: SimulatorError.self) { try w.setHouseLoad([1, 2]) }
        #expect(throws: SimulatorError.self) { try w.setHouseLoad([-1]) }
        #expect(throws: SimulatorError.self) { try w.setHouseLoad([.nan]) }
        #expect(throws: SimulatorError.self) { try w.setPV(watts: -5) }
        #expect(w.building.houseLoadA == [4, 5, 6])
        #expect(throws: SimulatorError.self) { try PVDayCurve(points: [.init(hour: 12, watts: 1), .init(hour: 6, watts: 2)], secondsPerHour: 10) }
        #expect(throws: SimulatorError.self) { try PVDayCurve(points: [.init(hour: 25, watts: 1)], secondsPerHour: 10) }
        #expect(throws: SimulatorError.self) { try PVDayCurve(points: [], secondsPerHour: 10) }
        #expect(throws: SimulatorError.self) { try PVDayCurve(points: [.init(hour: 6, watts: 1)], secondsPerHour: 0) }
    }

    @Test func gridMeterIsServedOnItsUnitWithItsMap() throws {
        let clock = VirtualClock()
        let sim = Simulator(config: .standard(connectors: 2), clock: clock)
        try sim.withWorld { w throws(SimulatorError) in try w.setHouseLoad([12, 0, 3]) }
        // SDM630 current L1…L3 (input registers 0x0006…) on unit 10.
        let frame: [UInt8] = [0, 1, 0, 0, 0, 6, SimulatorConfig.defaultGridMeterUnit, 4, 0, 6, 0, 6]
        let r = try #require(ModbusTCPResponder.respond(to: frame, units: { sim.meterImage(unit: $0) }))
        func float(_ o: Int) -> Float { Float(bitPattern: UInt32(r[o]) << 24 | UInt32(r[o + 1]) << 16 | UInt32(r[o + 2]) << 8 | UInt32(r[o + 3])) }
        #expect(float(9) == 12 && float(13) == 0 && float(17) == 3)
        try sim.withWorld { w throws(SimulatorError) in try w.setFault(.gridMeterOffline, connector: nil, active: true) }
        #expect(ModbusTCPResponder.respond(to: frame, units: { sim.meterImage(unit: $0) }) == nil)
        // The chargers' meters keep answering.
        let c1: [UInt8] = [0, 1, 0, 0, 0, 6, 1, 4, 0, 6, 0, 6]
        #expect(ModbusTCPResponder.respond(to: c1, units: { sim.meterImage(unit: $0) }) != nil)
    }

    @Test func boardFileGridMeterUsesItsMapAndUnit() throws {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let board = try BoardConfigLoader.load(path: parts.joined(separator: "/") + "/Board/sim-2x22kw.yaml")
        let grid = try #require(board.config.gridMeter)
        #expect(grid.unit == 10 && grid.map.name == "em340")
        #expect(board.config.gridFuseA == 50)
    }

    @Test func scenarioStepsSetTheBuilding() throws {
        let s = try Scenario.parse("house-load 10 20 30\npv 4000\npv-curve seconds_per_hour=5 6=0 12=8000 18=0\n", name: "t")
        guard case let .houseLoad(a) = s.steps[0].action, case let .pv(w) = s.steps[1].action,
              case let .pvCurve(c) = s.steps[2].action else {
            Issue.record("wrong actions"); return
        }
        #expect(a == [10, 20, 30] && w == 4000 && c.secondsPerHour == 5 && c.points.count == 3)
        #expect(throws: Scenario.ParseError.self) { try Scenario.parse("house-load 10 20\n", name: "t") }
        #expect(throws: Scenario.ParseError.self) { try Scenario.parse("pv-curve 12=5 6=1\n", name: "t") }
    }
}
