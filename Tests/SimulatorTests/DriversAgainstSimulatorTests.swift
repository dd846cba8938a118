import Drivers
import EVSESimulator
import Foundation
import HAL
import HALLinux
import HALSim
import Testing

/// The firmware's drivers, unchanged, against the running simulator: the HAL `sim` backend
/// over a real socket, the meter through libmodbus over Modbus TCP. Waiting here is for bytes
/// to cross a socket, never for a timeout to expire: every wait ends as soon as the driver
/// sees what it should.
@Suite(.serialized) struct DriversAgainstSimulatorTests {
    let clock = SystemMonotonicClock()

    struct Rig {
        let simulator: Simulator
        let hal: BoundServer
        let modbus: BoundServer
        let backend: SimBackend

        func close() async {
            backend.close()
            await hal.close()
            await modbus.close()
        }
    }

    func rig() async throws -> Rig {
        let sim = Simulator(config: .standard(connectors: 2))
        let hal = try await SimulatorServers.startHAL(sim, at: HostPort(host: "127.0.0.1", port: 0))
        let modbus = try await SimulatorServers.startModbus(sim, at: HostPort(host: "127.0.0.1", port: 0))
        let backend = SimBackend(host: "127.0.0.1", port: UInt16(hal.port), firmwareName: "driver-tests")
        try backend.connect()
        return Rig(simulator: sim, hal: hal, modbus: modbus, backend: backend)
    }

    /// Polls `probe` until it yields a value (bytes in flight), at most `limit` (generous: a
    /// passing test returns at once, and on two busy cores the task pool can stall for seconds).
    func eventually<T>(_ limit: Duration = .seconds(30), _ probe: () throws -> T?) async throws -> T? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if let v = try probe() { return v }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    @Test func controlPilotSeesTheEVAndOffersCurrent() async throws {
        let r = try await rig()
        let pilot = try ControlPilot(config: ControlPilotConfig(debounceSamples: 2),
                                     pwm: try r.backend.openPWM(.named("c1.cp.pwm")),
                                     highLevel: try r.backend.openADC(.named("c1.cp.high")),
                                     lowLevel: try r.backend.openADC(.named("c1.cp.low")))
        try pilot.setNotReady()
        let a = try await eventually { try pilot.sample(at: clock.now()).flatMap { $0.to == .a ? $0 : nil } }
        #expect(a?.to == .a)
        try r.simulator.withWorld { w throws(SimulatorError) in try w.plug(connector: 1) }
        let b = try await eventually { try pilot.sample(at: clock.now()).flatMap { $0.to == .b ? $0 : nil } }
        #expect(b?.to == .b)
        try pilot.offer(current: 16)
        try r.simulator.withWorld { w throws(SimulatorError) in try w.setEVState(connector: 1, .C) }
        let c = try await eventually { try pilot.sample(at: clock.now()).flatMap { $0.to == .c ? $0 : nil } }
        #expect(c?.to == .c)
        let world = r.simulator.snapshot()
        #expect(abs(world.connectors[0].pwm.offeredCurrentA - 16) < 0.05)
        #expect(world.connectors[0].pilotState == .C)
        await r.close()
    }

    @Test func wiegandCardIsDecoded() async throws {
        let r = try await rig()
        let input = GPIOLineConfig(direction: .input, edges: .both)
        let reader = WiegandReader(d0: try r.backend.openGPIOLine(.name("rfid.d0"), config: input),
                                   d1: try r.backend.openGPIOLine(.name("rfid.d1"), config: input))
        let bits = try r.simulator.withWorld { w throws(SimulatorError) in try w.presentCard(uidHex: "A1B2C3") }
        #expect(bits == 26)
        // The simulator sends the whole frame at once, stamped 2 ms per bit into the future as a
        // reader would clock it out; the decoder closes the frame 25 ms after its last bit.
        let card = try await eventually { try reader.poll(at: clock.now()).first }
        #expect(card?.uid == "A1B2C3")
        let bits34 = try r.simulator.withWorld { w throws(SimulatorError) in try w.presentCard(uidHex: "04A1B2C3") }
        #expect(bits34 == 34)
        let card34 = try await eventually { try reader.poll(at: clock.now()).first }
        #expect(card34?.uid == "04A1B2C3")
        #expect(reader.drainRejections().isEmpty)
        await r.close()
    }

    @Test func contactorFeedbackAndWeld() async throws {
        let r = try await rig()
        let contactor = try Contactor(config: ContactorConfig(closeTimeout: .milliseconds(200), weldTimeout: .milliseconds(200)),
                                      coils: [try r.backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))],
                                      feedback: try r.backend.openGPIOLine(.name("c1.contactor.feedback"), config: GPIOLineConfig(direction: .input, edges: .both)))
        let t0 = clock.now()
        try contactor.close(at: t0)
        #expect(r.simulator.snapshot().connectors[0].contactorClosed)
        let closed = try await eventually { try contactor.poll(at: clock.now()).isEmpty && r.simulator.snapshot().connectors[0].contactorClosed ? true : nil }
        #expect(closed == true)
        #expect(try contactor.poll(at: t0 + .milliseconds(500)).isEmpty)  // feedback confirmed: no fault

        try r.simulator.withWorld { w throws(SimulatorError) in try w.setFault(.contactorWeld, connector: 1, active: true) }
        let t1 = clock.now()
        try contactor.open(at: t1)
        #expect(!r.simulator.snapshot().connectors[0].coil)
        let faults = try contactor.poll(at: t1 + .milliseconds(500))
        #expect(faults.map(\.kind) == [.welded])
        await r.close()
    }

    @Test func contactorThatFailsToCloseIsReported() async throws {
        let r = try await rig()
        try r.simulator.withWorld { w throws(SimulatorError) in try w.setFault(.contactorFailClose, connector: 2, active: true) }
        let contactor = try Contactor(config: ContactorConfig(),
                                      coils: [try r.backend.openGPIOLine(.name("c2.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))],
                                      feedback: try r.backend.openGPIOLine(.name("c2.contactor.feedback"), config: GPIOLineConfig(direction: .input, edges: .both)))
        let t0 = clock.now()
        try contactor.close(at: t0)
        let faults = try contactor.poll(at: t0 + .milliseconds(400))
        #expect(faults.map(\.kind) == [.failedToClose])
        await r.close()
    }

    @Test func energyMeterReadsTheSimulatedSDM630() async throws {
        let r = try await rig()
        try r.simulator.withWorld { w throws(SimulatorError) in
            try w.plug(connector: 1, profile: EVProfile(maxCurrentA: 10, phases: 1))
            try w.setEVState(connector: 1, .C)
            var pwm = PilotPWM()
            pwm.dutyNanoseconds = 166_667  // 10 A
            pwm.configured = true
            w.setPWM("c1.cp.pwm", pwm)
            w.setOutput("c1.contactor.coil", true)
        }
        let bus = try LinuxModbusBus(config: ModbusBusConfig(name: "sim-meters", link: .tcp(host: "127.0.0.1", port: r.modbus.port)))
        let meter = EnergyMeter(bus: bus, unit: 1, map: SDM630.registerMap)
        let sample = try meter.read(at: clock.now())
        #expect(sample.values[.voltageL1] == 230)
        #expect(abs((sample.values[.currentL1] ?? 0) - 10) < 0.01)
        #expect(abs((sample.values[.activePowerTotal] ?? 0) - 2300) < 1)
        let wh = r.simulator.snapshot().connectors[0].energyImportWh
        #expect(abs((sample.values[.energyImported] ?? -1) - wh) < 1)
        await r.close()
    }

    @Test func hd44780DisplayDriverIsReadBackAsText() async throws {
        let r = try await rig()
        let lcd = try HD44780Display(i2c: try r.backend.openI2CDevice(bus: "sim", address: 39), columns: 20, rows: 4)
        try lcd.initialize()
        try lcd.show(lines: ["Charging", "11.0 kW 1.23 kWh", "", "Card 04A1B2C3"])
        let display = r.simulator.snapshot().display
        #expect(display.lines == ["Charging", "11.0 kW 1.23 kWh", "", "Card 04A1B2C3"])
        #expect(display.displayOn)
        try lcd.show(lines: ["Ready"])
        #expect(r.simulator.snapshot().display.lines == ["Ready", "", "", ""])
        await r.close()
    }
}
