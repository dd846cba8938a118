import Foundation
import HAL
@testable import HALSim
import Locking
import Synchronization
import Testing

@Suite struct SimBackendTests {
    func backend(_ sim: FakeSimulator, timeout: EVSEDuration = .milliseconds(3_000)) -> SimBackend {
        SimBackend(host: "127.0.0.1", port: sim.port, requestTimeout: timeout, reconnectInterval: .zero)
    }

    /// Replies arrive in order after pushes written earlier, so once a round trip is back the
    /// reader has applied every push sent before it: no waiting on time.
    func sync(_ backend: SimBackend) throws { try backend.mark("sync") }

    @Test func connectSaysHelloAndLearnsTheConnectorCount() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        #expect(!backend.isConnected)
        try backend.connect()
        #expect(backend.isConnected)
        #expect(backend.connectorCount == 2)
        #expect(sim.requests() == ["hello evsed 1"])
    }

    @Test func outputLinesOpenWithTheirInitialLevelAndSet() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let coil = try backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))
        try coil.write(true)
        #expect(try coil.read() == true)
        #expect(sim.requests() == ["hello evsed 1", "gpio.open c1.contactor.coil out 0", "gpio.set c1.contactor.coil 1"])
    }

    @Test func inputLevelAndEdgesComeFromPushesWithoutRoundTrips() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let feedback = try backend.openGPIOLine(.name("c1.contactor.feedback"),
                                                config: GPIOLineConfig(direction: .input, edges: .both))
        #expect(try feedback.read() == false)
        sim.push("! edge c1.contactor.feedback rising 1234")
        try sync(backend)
        #expect(try feedback.read() == true)
        #expect(try feedback.drainEdgeEvents() == [GPIOEdgeEvent(edge: .rising, timestamp: MonotonicInstant(microseconds: 1234))])
        #expect(try feedback.drainEdgeEvents().isEmpty)
        #expect(sim.requests() == ["hello evsed 1", "gpio.open c1.contactor.feedback in both", "mark sync"])
    }

    @Test func edgesAreFilteredAndActiveLowIsApplied() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let d0 = try backend.openGPIOLine(.name("rfid.d0"), config: GPIOLineConfig(direction: .input, edges: .falling))
        let estop = try backend.openGPIOLine(.name("estop"),
                                             config: GPIOLineConfig(direction: .input, activeLow: true, edges: .rising))
        sim.push("! edge rfid.d0 falling 20")
        sim.push("! edge rfid.d0 rising 30")
        sim.push("! edge estop falling 40")
        try sync(backend)
        #expect(try d0.drainEdgeEvents() == [GPIOEdgeEvent(edge: .falling, timestamp: MonotonicInstant(microseconds: 20))])
        #expect(try estop.drainEdgeEvents() == [GPIOEdgeEvent(edge: .rising, timestamp: MonotonicInstant(microseconds: 40))])
        #expect(try estop.read() == true)   // physical 0 on an active-low line
        #expect(sim.requests().contains("gpio.open estop in falling"))   // the physical edge
    }

    @Test func pwmSendsTheWholeSettingAndRejectsDutyAbovePeriodLocally() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let pwm = try backend.openPWM(.named("c1.cp.pwm"))
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 266_000)
        try pwm.setEnabled(true)
        try pwm.setPolarity(.inversed)
        let sent = sim.requests()
        #expect(sent == ["hello evsed 1", "pwm.open c1.cp.pwm",
                         "pwm.set c1.cp.pwm 1000000 266000 normal 0",
                         "pwm.set c1.cp.pwm 1000000 266000 normal 1",
                         "pwm.set c1.cp.pwm 1000000 266000 inversed 1"])
        let error = #expect(throws: HardwareError.self) {
            try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 1_000_001)
        }
        #expect(error?.kind == .invalidArgument)
        #expect(sim.requests() == sent)
    }

    @Test func anLEDClassDeviceSendsOneRequestPerPatternAndReplaysTheLastAfterAReconnect() throws {
        let sim = try FakeSimulator { words in words == ["mark", "drop"] ? .drop : FakeSimulator.standard(words) }
        let backend = backend(sim)
        let led = try backend.openLED(.named("c1.led.blue.class"))
        try led.setBrightness(0.0625)
        try led.runPattern([LEDPatternPoint(brightness: 0, milliseconds: 250), LEDPatternPoint(brightness: 0.5625, milliseconds: 250),
                            LEDPatternPoint(brightness: 1, milliseconds: 0)])
        #expect(sim.requests() == ["hello evsed 1", "led.open c1.led.blue.class", "led.set c1.led.blue.class 0.063",
                                   "led.pattern c1.led.blue.class 0 250 0.563 250 1 0"])
        #expect(throws: HardwareError.self) { try led.runPattern([LEDPatternPoint(brightness: 1, milliseconds: 10)]) }
        #expect(throws: HardwareError.self) { _ = try backend.openLED(.sysfs("evse:blue")) }
        #expect(sim.requests().count == 4, "refused locally: nothing sent")

        #expect(throws: HardwareError.self) { try backend.mark("drop") }
        try backend.mark("back")
        #expect(sim.requests(connection: 1) == ["hello evsed 1", "led.open c1.led.blue.class",
                                                "led.pattern c1.led.blue.class 0 250 0.563 250 1 0", "mark back"])
    }

    @Test func adcValuesComeFromTheOpenReplyAndPushes() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let cp = try backend.openADC(.named("c1.cp.high"))
        #expect(try cp.readVolts() == 12.0)
        sim.push("! adc c1.cp.high 9000 55")
        try sync(backend)
        #expect(try cp.readVolts() == 9.0)
        #expect(!sim.requests().contains { $0.hasPrefix("adc.get") })
    }

    @Test func everyPushedInputChangeAndALostLinkWakeTheLoop() throws {
        let sim = try FakeSimulator { words in words == ["mark", "drop"] ? .drop : FakeSimulator.standard(words) }
        let backend = backend(sim)
        let wake = try LoopWakeUp()
        backend.signalInputChanges(to: wake)
        #expect(backend.signalsEveryInputChange)
        let cp = try backend.openADC(.named("c1.cp.high"))
        _ = try backend.openGPIOLine(.name("c1.contactor.feedback"), config: GPIOLineConfig(direction: .input, edges: .both))
        try sync(backend)
        wake.drain()
        sim.push("! adc c1.cp.high 12000 50")
        try sync(backend)
        #expect(!wake.drain(), "the same value again is no change")
        sim.push("! adc c1.cp.high 9000 55")
        try sync(backend)
        #expect(wake.drain(), "pilot ADC change")
        #expect(try cp.readVolts() == 9.0)
        sim.push("! edge c1.contactor.feedback rising 60")
        try sync(backend)
        #expect(wake.drain(), "feedback edge")
        _ = #expect(throws: HardwareError.self) { try backend.mark("drop") }
        // The reader sees the socket close and signals: quiet is not mistaken for healthy.
        #expect(wake.wait(until: SystemMonotonicClock().now() + .seconds(Int64(5)), clock: SystemMonotonicClock()))
    }

    @Test func keyPushesQueueUntilDrained() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let keys = try backend.openKeyEventSource(device: "rfid.keys")
        sim.push("! key rfid.keys 2 1 100")
        sim.push("! key rfid.keys 2 0 150")
        sim.push("! key other.keys 3 1 160")   // not opened: ignored
        try sync(backend)
        #expect(try keys.drainKeyEvents() == [KeyEvent(code: 2, pressed: true, timestamp: MonotonicInstant(microseconds: 100)),
                                              KeyEvent(code: 2, pressed: false, timestamp: MonotonicInstant(microseconds: 150))])
        #expect(try keys.drainKeyEvents().isEmpty)
    }

    @Test func i2cWritesHexAndMarkCarriesOneField() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let lcd = try backend.openI2CDevice(bus: "sim", address: 39)
        try lcd.write([0x3c, 0x38, 0x0f])
        try backend.mark("pilot C seen")
        #expect(sim.requests() == ["hello evsed 1", "i2c.write sim 39 3c380f", "mark pilot_C_seen"])
    }

    @Test func errRepliesBecomeErrorsNamingThePrimitive() throws {
        let sim = try FakeSimulator { words in
            if words.first == "gpio.open" && words[1] == "c9.nope" { return .reply("err unknown line c9.nope") }
            if words.first == "pwm.set" { return .reply("err duty 1100000 > period 1000000") }
            return FakeSimulator.standard(words)
        }
        let backend = backend(sim)
        let missing = #expect(throws: HardwareError.self) {
            _ = try backend.openGPIOLine(.name("c9.nope"), config: GPIOLineConfig(direction: .input))
        }
        #expect(missing?.kind == .deviceMissing)
        #expect(missing?.device == "c9.nope")
        #expect(missing?.detail.contains("unknown line c9.nope") == true)
        let pwm = try backend.openPWM(.named("c1.cp.pwm"))
        let refused = #expect(throws: HardwareError.self) { try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 500_000) }
        #expect(refused?.kind == .invalidArgument)
        #expect(refused?.detail.contains("duty 1100000 > period 1000000") == true)
    }

    @Test func unansweredRequestTimesOutAndTheLinkStaysUsable() throws {
        let sim = try FakeSimulator { words in words.first == "mark" ? .silence : FakeSimulator.standard(words) }
        let backend = backend(sim, timeout: .milliseconds(150))
        let coil = try backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))
        let error = #expect(throws: HardwareError.self) { try backend.mark("never") }
        #expect(error?.kind == .timeout)
        try coil.write(true)
        #expect(sim.connectionCount == 1)
        #expect(sim.requests().last == "gpio.set c1.contactor.coil 1")
    }

    @Test func droppedLinkFailsTheCallAndTheNextCallReconnectsAndReopensEverything() throws {
        let sim = try FakeSimulator { words in words == ["mark", "drop"] ? .drop : FakeSimulator.standard(words) }
        let backend = backend(sim)
        let coil = try backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))
        try coil.write(true)
        _ = try backend.openGPIOLine(.name("c1.contactor.feedback"), config: GPIOLineConfig(direction: .input, edges: .both))
        let pwm = try backend.openPWM(.named("c1.cp.pwm"))
        try pwm.configure(periodNanoseconds: 1_000_000, dutyNanoseconds: 266_000)
        let cp = try backend.openADC(.named("c1.cp.high"))
        _ = try backend.openKeyEventSource(device: "rfid.keys")

        let error = #expect(throws: HardwareError.self) { try backend.mark("drop") }
        #expect(error?.kind == .disconnected)
        #expect(!backend.isConnected)

        #expect(try cp.readVolts() == 12.0)
        #expect(sim.requests(connection: 1) == [
            "hello evsed 1",
            "gpio.open c1.contactor.coil out 1",          // the level last written, not the initial one
            "gpio.open c1.contactor.feedback in both",
            "pwm.open c1.cp.pwm",
            "pwm.set c1.cp.pwm 1000000 266000 normal 0",
            "adc.open c1.cp.high",
            "keys.open rfid.keys",
        ])
    }

    @Test func simulatorRestartIsSurvived() throws {
        let first = try FakeSimulator()
        let port = first.port
        let backend = backend(first)
        let coil = try backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))
        first.stop()
        let error = #expect(throws: HardwareError.self) { try coil.write(true) }
        #expect(error?.kind == .disconnected)

        let second = try FakeSimulator(port: port)
        try coil.write(true)
        #expect(second.requests() == ["hello evsed 1", "gpio.open c1.contactor.coil out 0", "gpio.set c1.contactor.coil 1"])
    }

    @Test func unreachableSimulatorIsDisconnectedWithAHint() throws {
        let gone = try FakeSimulator()
        let port = gone.port
        gone.stop()
        let backend = SimBackend(port: port, requestTimeout: .milliseconds(500))
        let error = #expect(throws: HardwareError.self) {
            _ = try backend.openGPIOLine(.name("estop"), config: GPIOLineConfig(direction: .input))
        }
        #expect(error?.kind == .disconnected)
        #expect(error?.detail.contains("evse-sim") == true)
    }

    @Test func reconnectAttemptsAreSpaced() throws {
        let gone = try FakeSimulator()
        let port = gone.port
        gone.stop()
        let backend = SimBackend(port: port, requestTimeout: .milliseconds(500), reconnectInterval: .seconds(Int64(60)))
        #expect(throws: HardwareError.self) { try backend.connect() }
        let restarted = try FakeSimulator(port: port)
        // Within the interval nothing is tried, even though the simulator is back.
        #expect(throws: HardwareError.self) { try backend.connect() }
        #expect(restarted.connectionCount == 0)
    }

    @Test func concurrentCallersEachGetTheirOwnReply() throws {
        // Replies are routed by ID: each channel's open reply carries its own number.
        let sim = try FakeSimulator { words in
            if words.first == "adc.open", let n = Int(words[1].dropFirst(3)) { return .reply("ok \(n * 100)") }
            return FakeSimulator.standard(words)
        }
        let backend = backend(sim)
        try backend.connect()
        let volts = Mutex([Int: Double]())
        DispatchQueue.concurrentPerform(iterations: 24) { n in
            let v = try? backend.openADC(.named("adc\(n)")).readVolts()
            volts.locked { $0[n] = v }
        }
        #expect(volts.locked { $0 } == Dictionary(uniqueKeysWithValues: (0..<24).map { ($0, Double($0) / 10) }))
    }

    @Test func chipOffsetAddressesAreNotSimulatorLines() throws {
        let sim = try FakeSimulator()
        let error = #expect(throws: HardwareError.self) {
            _ = try backend(sim).openGPIOLine(.chipOffset(chip: "gpiochip0", offset: 3), config: GPIOLineConfig(direction: .input))
        }
        #expect(error?.kind == .invalidArgument)
        #expect(sim.connectionCount == 0)
    }

    @Test func closedLineRefusesCalls() throws {
        let sim = try FakeSimulator()
        let backend = backend(sim)
        let coil = try backend.openGPIOLine(.name("c1.contactor.coil"), config: GPIOLineConfig(direction: .output(initial: false)))
        coil.close()
        #expect(throws: HardwareError.self) { try coil.write(true) }
    }
}

@Suite struct SimProtocolTests {
    @Test func parsesRepliesAndPushes() {
        #expect(SimIncoming.parse("7 ok") == .ok(id: 7, values: []))
        #expect(SimIncoming.parse("1 ok evse-sim 1 2") == .ok(id: 1, values: ["evse-sim", "1", "2"]))
        #expect(SimIncoming.parse("9 err unknown line c9.x") == .err(id: 9, message: "unknown line c9.x"))
        #expect(SimIncoming.parse("! edge rfid.d1 falling 123456") ==
                .edge(name: "rfid.d1", rising: false, timestamp: MonotonicInstant(microseconds: 123_456)))
        #expect(SimIncoming.parse("! adc c1.cp.low -12000 5") ==
                .adc(name: "c1.cp.low", millivolts: -12_000, timestamp: MonotonicInstant(microseconds: 5)))
        #expect(SimIncoming.parse("! key rfid.keys 28 0 9") ==
                .key(name: "rfid.keys", code: 28, pressed: false, timestamp: MonotonicInstant(microseconds: 9)))
        #expect(SimIncoming.parse("! display 0 hello") == .otherPush("display"))
    }

    @Test func rejectsMalformedLines() {
        #expect(SimIncoming.parse("") == nil)
        #expect(SimIncoming.parse("x ok") == nil)
        #expect(SimIncoming.parse("3 maybe") == nil)
        #expect(SimIncoming.parse("! edge rfid.d1 sideways 1") == nil)
        #expect(SimIncoming.parse("! adc c1.cp.high lots 1") == nil)
        #expect(SimIncoming.parse("! key rfid.keys 28 2 9") == nil)
    }
}
