import HAL
import Locking
import Synchronization
import Testing
@testable import EVSESimulator

/// Collects what the simulator pushes to a session.
final class PushLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ s: String) { lines.locked { $0.append(s) } }
    func take() -> [String] { lines.locked { l in let out = l; l.removeAll(); return out } }
}

@Suite struct HALSessionTests {
    let clock = VirtualClock(start: MonotonicInstant(microseconds: 7_000_000))
    let pushes = PushLog()
    let sim: Simulator
    let session: HALSession

    init() {
        sim = Simulator(config: .standard(connectors: 2), clock: clock)
        let log = pushes
        session = sim.openHALSession { log.append($0) }
    }

    func state() -> String { sim.snapshot().stateJSON().serialized }

    @Test func helloReportsVersionAndConnectors() {
        #expect(session.handle(line: "1 hello evsed 1") == "1 ok evse-sim 1 2")
        #expect(session.handle(line: "2 hello evsed 2") == "2 err unsupported protocol version 2 (evse-sim speaks 1)")
        #expect(sim.snapshot().firmwareName == "evsed")
        #expect(sim.snapshot().firmwareSessions == 1)
    }

    @Test func outputsDriveTheWorldAndInputsPushEdges() {
        #expect(session.handle(line: "1 gpio.open c1.contactor.feedback in both") == "1 ok 0")
        #expect(session.handle(line: "2 gpio.open c1.contactor.coil out 0") == "2 ok 0")
        _ = pushes.take()
        #expect(session.handle(line: "3 gpio.set c1.contactor.coil 1") == "3 ok")
        #expect(pushes.take() == ["! edge c1.contactor.feedback rising 7000000"])
        #expect(session.handle(line: "4 gpio.get c1.contactor.feedback") == "4 ok 1")
        #expect(sim.snapshot().connectors[0].contactorClosed)
        let kinds = sim.events().map(\.kind)
        #expect(kinds.contains("contactor.command"))
        #expect(kinds.contains("contactor.state"))
    }

    @Test func pwmAndADCFollowTheEV() throws {
        #expect(session.handle(line: "1 adc.open c1.cp.high") == "1 ok 12000")
        #expect(session.handle(line: "2 pwm.open c1.cp.pwm") == "2 ok")
        try sim.withWorld { w throws(SimulatorError) in try w.plug(connector: 1) }
        #expect(pushes.take() == ["! adc c1.cp.high 9000 7000000"])
        clock.advance(by: .milliseconds(5))
        #expect(session.handle(line: "3 pwm.set c1.cp.pwm 1000000 266667 normal 1") == "3 ok")
        #expect(session.handle(line: "4 pwm.set c1.cp.pwm 1000000 0 normal 0") == "4 ok")
        #expect(pushes.take() == ["! adc c1.cp.high -12000 7005000"])
        #expect(session.handle(line: "5 adc.get c1.cp.high") == "5 ok -12000")
    }

    @Test func pushesOnlyWhatTheSessionOpened() throws {
        try sim.withWorld { w throws(SimulatorError) in try w.setFault(.estop, connector: nil, active: true) }
        #expect(pushes.take().isEmpty)
        #expect(session.handle(line: "1 gpio.open estop in both") == "1 ok 1")
        #expect(session.handle(line: "2 keys.open rfid.keys") == "2 ok")
        try sim.withWorld { w throws(SimulatorError) in _ = try w.presentCard(uidHex: "0A") }
        let lines = pushes.take()
        #expect(lines.count == 6)  // 0, A, ENTER pressed and released
        #expect(lines.allSatisfy { $0.hasPrefix("! key rfid.keys ") })
    }

    @Test func invalidRequestsAreRejectedAndChangeNothing() {
        #expect(session.handle(line: "9 gpio.open c1.contactor.coil out 0") == "9 ok 0")
        #expect(session.handle(line: "10 pwm.open c1.cp.pwm") == "10 ok")
        #expect(session.handle(line: "11 gpio.open c1.contactor.feedback in both") == "11 ok 0")
        let before = state()
        let cases: [(String, String)] = [
            ("1 frobnicate x", "1 err unknown verb \"frobnicate\""),
            ("2 gpio.set c9.contactor.coil 1", "2 err unknown line \"c9.contactor.coil\" (this charger has connectors c1, c2)"),
            ("3 gpio.set c1.contactor.feedback 1", "3 err c1.contactor.feedback is a gpio input, not a gpio output"),
            ("4 gpio.open c1.rcd out 1", "4 err c1.rcd is a gpio input; it cannot be opened as an output"),
            ("5 pwm.set c1.cp.pwm 1000000 1000001 normal 1", "5 err duty 1000001 ns exceeds period 1000000 ns"),
            ("6 pwm.set c1.cp.pwm 1000000 abc normal 1", "6 err DUTY_NS must be a non-negative integer, got \"abc\""),
            ("7 pwm.set c1.cp.pwm 500000 100000 normal 1", "7 err control pilot period must be 1000000 ns (1 kHz ± 2 %), got 500000"),
            ("8 gpio.set c1.contactor.coil 2", "8 err LEVEL must be 0 or 1, got \"2\""),
            ("12 gpio.set c1.lock.drive 1", "12 err c1.lock.drive is not open (send gpio.open first)"),
            ("13 i2c.write sim 40 00", "13 err no device at address 40 on bus sim (the display is at 39, an SSD1306 at 60 or 61)"),
            ("14 i2c.write sim 39 0g", "14 err HEXBYTES must be hex digits, got \"0g\""),
            ("15 pwm.set c1.cp.pwm 1000000 0 sideways 1", "15 err POLARITY must be normal or inversed, got \"sideways\""),
            ("16 gpio.get", "16 err gpio.get takes 1 argument: gpio.get NAME; got 0"),
            ("x1 hello evsed 1", "0 err request id \"x1\" is not a decimal number"),
            ("17", "17 err missing verb"),
        ]
        for (request, reply) in cases { #expect(session.handle(line: request) == reply) }
        #expect(state() == before)
        #expect(sim.events().filter { $0.kind == "hal.rejected" }.count == cases.count)
    }

    @Test func displayBytesBecomeLines() {
        var w = PCF8574Writer()
        w.initialise()
        w.text("Ready")
        let hex = w.bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(session.handle(line: "1 i2c.write sim 39 \(hex)") == "1 ok")
        #expect(sim.snapshot().display.lines[0] == "Ready")
        #expect(sim.events().contains { $0.kind == "display" })
    }

    @Test func markAndDisconnectAreEvents() {
        #expect(session.handle(line: "1 mark pilot C seen") == "1 ok")
        let mark = sim.events().first { $0.kind == "firmware.mark" }
        #expect(mark?.json["text"] == .string("pilot C seen"))
        session.close()
        #expect(sim.snapshot().firmwareSessions == 0)
        #expect(session.handle(line: "2 mark x") == "2 err session closed")
        #expect(sim.events().last?.kind == "firmware.disconnected")
    }

    @Test func worldKeepsGoingAfterTheFirmwareDisconnects() throws {
        _ = session.handle(line: "1 gpio.open c1.contactor.coil out 0")
        _ = session.handle(line: "2 pwm.open c1.cp.pwm")
        try sim.withWorld { w throws(SimulatorError) in
            try w.plug(connector: 1, profile: EVProfile(maxCurrentA: 16, phases: 3))
            try w.setEVState(connector: 1, .C)
        }
        _ = session.handle(line: "3 pwm.set c1.cp.pwm 1000000 266667 normal 1")
        _ = session.handle(line: "4 gpio.set c1.contactor.coil 1")
        session.close()
        clock.advance(by: .seconds(Int64(600)))
        let w = sim.snapshot()
        #expect(w.connectors[0].plugged)
        #expect(abs(w.connectors[0].energyImportWh - 1840) < 1)  // 11.04 kW for 10 minutes
    }
}
