import Drivers
import HAL
import Testing
@testable import EVSESimulator

@Suite struct ModbusTCPResponderTests {
    func request(tid: UInt16 = 0x1234, unit: UInt8 = 1, function: UInt8 = 4, address: UInt16, count: UInt16) -> [UInt8] {
        [UInt8(tid >> 8), UInt8(tid & 0xFF), 0, 0, 0, 6, unit, function,
         UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
    }

    func simulator() -> (Simulator, VirtualClock) {
        let clock = VirtualClock()
        return (Simulator(config: .standard(connectors: 2), clock: clock), clock)
    }

    func float(_ r: [UInt8], at offset: Int) -> Float {
        let bits = UInt32(r[offset]) << 24 | UInt32(r[offset + 1]) << 16 | UInt32(r[offset + 2]) << 8 | UInt32(r[offset + 3])
        return Float(bitPattern: bits)
    }

    @Test func readsVoltagesAsSDM630Floats() throws {
        let (sim, _) = simulator()
        let r = try #require(ModbusTCPResponder.respond(to: request(address: 0, count: 6), units: { sim.meterImage(unit: $0) }))
        #expect(Array(r[0..<2]) == [0x12, 0x34])                  // transaction id echoed
        #expect(Array(r[2..<8]) == [0, 0, 0, 15, 1, 4])           // protocol 0, length 15, unit, function
        #expect(r[8] == 12)
        #expect(float(r, at: 9) == 230)
        #expect(float(r, at: 17) == 230)
    }

    @Test func energyRegisterHoldsKilowattHoursOfTheIntegratedEnergy() throws {
        let (sim, clock) = simulator()
        try sim.withWorld { w throws(SimulatorError) in
            try w.plug(connector: 2, profile: EVProfile(maxCurrentA: 16, phases: 1))
            try w.setEVState(connector: 2, .C)
            var pwm = PilotPWM()
            pwm.dutyNanoseconds = 266_667
            pwm.configured = true
            w.setPWM("c2.cp.pwm", pwm)
            w.setOutput("c2.contactor.coil", true)
        }
        clock.advance(by: .seconds(Int64(1800)))
        let r = try #require(ModbusTCPResponder.respond(to: request(unit: 2, address: 0x48, count: 2), units: { sim.meterImage(unit: $0) }))
        // 16 A × 230 V for half an hour = 1.84 kWh.
        #expect(abs(float(r, at: 9) - 1.84) < 0.001)
        let p = try #require(ModbusTCPResponder.respond(to: request(unit: 2, address: 0x34, count: 2), units: { sim.meterImage(unit: $0) }))
        #expect(abs(float(p, at: 9) - 3680) < 1)
    }

    @Test func exceptionsForUnknownFunctionAddressAndQuantity() throws {
        let (sim, _) = simulator()
        let units: ModbusTCPResponder.UnitLookup = { sim.meterImage(unit: $0) }
        let fn = try #require(ModbusTCPResponder.respond(to: request(function: 6, address: 0, count: 1), units: units))
        #expect(Array(fn[7...]) == [0x86, 1])
        let addr = try #require(ModbusTCPResponder.respond(to: request(address: 0x4B, count: 2), units: units))
        #expect(Array(addr[7...]) == [0x84, 2])
        let holding = try #require(ModbusTCPResponder.respond(to: request(function: 3, address: 0, count: 2), units: units))
        #expect(Array(holding[7...]) == [0x83, 2])
        let qty = try #require(ModbusTCPResponder.respond(to: request(address: 0, count: 126), units: units))
        #expect(Array(qty[7...]) == [0x84, 3])
        #expect(Array(addr[4..<6]) == [0, 3])
    }

    @Test func offlineMeterAndUnknownUnitDoNotAnswer() throws {
        let (sim, _) = simulator()
        try sim.withWorld { w throws(SimulatorError) in try w.setFault(.meterOffline, connector: 1, active: true) }
        #expect(ModbusTCPResponder.respond(to: request(unit: 1, address: 0, count: 2), units: { sim.meterImage(unit: $0) }) == nil)
        #expect(ModbusTCPResponder.respond(to: request(unit: 9, address: 0, count: 2), units: { sim.meterImage(unit: $0) }) == nil)
        #expect(ModbusTCPResponder.respond(to: request(unit: 2, address: 0, count: 2), units: { sim.meterImage(unit: $0) }) != nil)
    }

    @Test func malformedFramesAreDropped() {
        var bad = request(address: 0, count: 2)
        bad[2] = 1  // protocol id must be 0
        #expect(ModbusTCPResponder.respond(to: bad, units: { _ in nil }) == nil)
        var short = request(address: 0, count: 2)
        short[5] = 9  // length disagrees with the frame
        #expect(ModbusTCPResponder.respond(to: short, units: { _ in nil }) == nil)
        #expect(ModbusTCPResponder.frameLength(request(address: 0, count: 2)[...]) == 12)
    }

    @Test func registerImageFollowsTypeScaleAndWordOrder() {
        let def = RegisterDefinition(function: .readHoldingRegisters, address: 10, type: .uint32, wordOrder: .lowFirst, scale: 0.01)
        #expect(MeterRegisterImage.encode(1234.56, def) == [0xE240, 0x0001])  // 123456 = 0x0001E240
        let i16 = RegisterDefinition(function: .readHoldingRegisters, address: 0, type: .int16, scale: 1)
        #expect(MeterRegisterImage.encode(-2, i16) == [0xFFFE])
    }
}
