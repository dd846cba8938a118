import BoardDescription
import ChargingCore
import Drivers
import HAL
import HALFake
import Station
import Testing

/// The event-driven loop on the fake backend: the fake signals the station's wake-up on every
/// input change as the simulator's pushes do, and the virtual clock stands in for the sleep
/// (the tests jump to the instant the loop would wake for).
@Suite("Event loop: sleeps until its next deadline, wakes on change")
struct EventLoopTests {
    /// Turns the loop at every instant it would wake for, `turns` times (the station settles
    /// after its start), and returns the last deadlines.
    @discardableResult
    func run(_ loop: StationLoop, _ rig: Rig, turns: Int) throws -> LoopDeadlines {
        var deadlines = loop.turn(at: rig.clock.now())
        for _ in 0..<turns {
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            rig.clock.set(next)
            followOutputs(rig)
            deadlines = loop.turn(at: next)
        }
        return deadlines
    }

    /// The feedback contacts follow their drives, as in `Rig.step`.
    func followOutputs(_ rig: Rig) {
        let now = rig.clock.now()
        for id in [1, 2] {
            rig.fake.line(named: "c\(id).contactor.feedback")?.drive(rig.coil(id), at: now)
            rig.fake.line(named: "c\(id).lock.feedback")?.drive(rig.fake.line(named: "c\(id).lock.drive")?.level ?? false, at: now)
        }
    }

    func signalled(_ rig: Rig) -> Bool { rig.station.wake.wait(until: rig.clock.now(), clock: rig.clock) }

    @Test func anIdleStationSleepsUntilItsNextRealDeadlineNotAPollInterval() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        #expect(rig.station.inputSampling.inputsSignalChanges)
        let deadlines = try run(loop, rig, turns: 12)
        #expect(deadlines.instants(of: .inputSampling).isEmpty, "inputs that signal changes are not polled")
        #expect(deadlines.instants(of: .inputSettling).isEmpty, "\(deadlines)")
        // The sim board's display refreshes once a second: the next real deadline.
        let now = rig.clock.now()
        #expect(deadlines.earliest?.timer == .display, "\(deadlines)")
        #expect(deadlines.sleep(from: now) == .seconds(Int64(1)))
    }

    @Test func withoutADisplayAnIdleStationSleepsUntilTheAllocationRound() throws {
        var board = try Rig.simBoard()
        board.station.display = nil
        let rig = try Rig(board: board)
        try rig.station.start(at: rig.clock.now())
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        let deadlines = try run(loop, rig, turns: 6)
        let now = rig.clock.now()
        #expect(deadlines.earliest?.timer == .allocation, "\(deadlines)")
        let sleep = try #require(deadlines.sleep(from: now))
        #expect(sleep >= .seconds(Int64(5)), "nothing to share: \(sleep) between two rounds")
    }

    @Test func aPushedPilotChangeWakesTheLoopAndIsConfirmedAtTheSettlePace() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        try run(loop, rig, turns: 4)
        rig.station.wake.drain()
        #expect(!signalled(rig), "nothing changed yet")
        rig.plug(1)
        #expect(signalled(rig), "the plug-in woke the loop")
        var deadlines = loop.turn(at: rig.clock.now(), inputsChanged: true)
        var turns = 1
        while rig.view(1)?.pilot != .b, turns < 10 {
            let now = rig.clock.now()
            let next = try #require(loop.wakeUp(for: deadlines, at: now))
            #expect(next - now == rig.station.inputSampling.settleInterval, "the pilot debounces at the settle pace")
            rig.clock.set(next)
            deadlines = loop.turn(at: next)
            turns += 1
        }
        #expect(rig.view(1)?.pilot == .b)
        #expect(turns == rig.station.hardware.connectors[0].pilot.config.debounceSamples, "one turn per debounce sample, none idle")
        #expect(rig.view(1)?.status == .preparing)
    }

    @Test func aPushedRCDTripWakesTheLoopAndTheStepThatConfirmsItOpensTheContactor() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        try run(loop, rig, turns: 3)
        rig.station.wake.drain()
        let rcd = try #require(rig.fake.line(named: "c1.rcd"))
        let tripAt = rig.clock.now()
        rcd.drive(true, at: tripAt)
        #expect(signalled(rig), "the trip woke the loop")
        let deadlines = loop.turn(at: tripAt, inputsChanged: true)
        #expect(rig.coil(1), "still inside the input's debounce")
        // Woken again exactly when the debounce ends (10 ms on this board), not at a poll tick.
        let next = try #require(loop.wakeUp(for: deadlines, at: tripAt))
        #expect(next == tripAt + .milliseconds(10), "\(deadlines)")
        rig.clock.set(next)
        loop.turn(at: next)
        #expect(!rig.coil(1), "the confirming step opened the contactor")
        #expect(rig.view(1)?.status == .faulted)
    }

    @Test func pilotCToBWhileChargingOpensTheContactorInTheConfirmingStep() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        try run(loop, rig, turns: 3)
        rig.station.wake.drain()
        rig.setEV(1, .b)
        #expect(signalled(rig))
        var deadlines = loop.turn(at: rig.clock.now(), inputsChanged: true)
        var turns = 1
        while rig.coil(1), turns < 10 {
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            rig.clock.set(next)
            deadlines = loop.turn(at: next)
            turns += 1
        }
        #expect(!rig.coil(1))
        #expect(rig.view(1)?.pilot == .b, "opened in the step that confirmed B")
        #expect(turns == rig.station.hardware.connectors[0].pilot.config.debounceSamples)
    }

    /// Connector 1's LED on PWM channels (`c1.led.red.pwm`, …) instead of the shipped board's
    /// LED class devices: the firmware steps the breathing itself.
    static func boardWithPWMLED() throws -> BoardDescription {
        var board = try Rig.simBoard()
        func pwm(_ colour: String) -> LEDChannelRef {
            .pwm(PWMRef(address: .named("c1.led.\(colour).pwm"), polarity: .normal, line: 0))
        }
        board.connectors[0].led = StatusLEDDescription(red: pwm("red"), green: pwm("green"), blue: pwm("blue"))
        return board
    }

    @Test func aBreathingLEDStepsWithoutSteppingTheStation() throws {
        let rig = try Rig(board: Self.boardWithPWMLED())
        try rig.station.start(at: rig.clock.now())
        #expect(rig.startCharging(1))
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        try run(loop, rig, turns: 3)
        rig.station.wake.drain()
        let blue = try #require(rig.fake.pwm(.named("c1.led.blue.pwm")))
        let (steps, writes, ledOnly) = (rig.station.stepCount, blue.configuredDuties.count, loop.ledOnlyTurns)
        let began = rig.clock.now()
        var deadlines = try run(loop, rig, turns: 0)
        while rig.clock.now() < began + .seconds(Int64(10)) {
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            rig.clock.set(next)
            followOutputs(rig)
            deadlines = loop.turn(at: next, inputsChanged: signalled(rig))
        }
        let ledWrites = blue.configuredDuties.count - writes
        // A 2 s pulse in 8 steps per half period: 8 brightness writes a second.
        #expect((78...82).contains(ledWrites), "\(ledWrites) LED writes in 10 s")
        #expect(loop.ledOnlyTurns - ledOnly >= 70, "the LED steps were LED-only turns")
        // What is left are the display's refresh and the meter readings, a few a second.
        let fullSteps = rig.station.stepCount - steps
        #expect(fullSteps <= 40, "\(fullSteps) whole steps in 10 s")
        #expect(rig.coil(1) && rig.view(1)?.status == .charging)
        // An input change at the LED's next step gets a whole step: it opens the contactor.
        let ledDue = try #require(deadlines.instants(of: .statusLED).min())
        rig.clock.set(ledDue)
        rig.setEV(1, .b)
        #expect(signalled(rig))
        let before = rig.station.stepCount
        deadlines = loop.turn(at: ledDue, inputsChanged: true)
        #expect(rig.station.stepCount == before + 1)
        while rig.coil(1) {
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            #expect(next - ledDue <= .milliseconds(20))
            rig.clock.set(next)
            deadlines = loop.turn(at: next, inputsChanged: signalled(rig))
        }
    }

    @Test func aBreathingLEDOnLEDClassDevicesCostsOneWriteAndNoTurns() throws {
        // The shipped sim board: connector 1's LED is three LED class devices.
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        #expect(rig.startCharging(1))
        try run(loop, rig, turns: 3)
        rig.station.wake.drain()
        let blue = try #require(rig.fake.led(.named("c1.led.blue.class")))
        guard case .pattern? = blue.shown else { Issue.record("charging breathes blue: \(blue.writes)"); return }
        let (writes, steps, ledOnly) = (blue.writes.count, rig.station.stepCount, loop.ledOnlyTurns)
        let began = rig.clock.now()
        var deadlines = try run(loop, rig, turns: 0)
        var turns = 0
        while rig.clock.now() < began + .seconds(Int64(10)) {
            #expect(deadlines.instants(of: .statusLED).isEmpty, "no LED timer is armed")
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            rig.clock.set(next)
            followOutputs(rig)
            deadlines = loop.turn(at: next, inputsChanged: signalled(rig))
            turns += 1
        }
        #expect(blue.writes.count == writes, "the kernel breathes: no write in 10 s")
        #expect(loop.ledOnlyTurns == ledOnly)
        // Only the display's refresh and the meter readings are left, a few a second.
        #expect(rig.station.stepCount - steps <= 40 && turns <= 40, "\(turns) turns in 10 s")
        // Unplugging ends the pattern: Available shows steady green.
        rig.unplug(1)
        deadlines = loop.turn(at: rig.clock.now(), inputsChanged: signalled(rig))
        for _ in 0..<200 where rig.fake.led(.named("c1.led.green.class"))?.shown != .steady(1) {
            let next = try #require(loop.wakeUp(for: deadlines, at: rig.clock.now()))
            rig.clock.set(next)
            followOutputs(rig)
            deadlines = loop.turn(at: next, inputsChanged: signalled(rig))
        }
        #expect(rig.fake.led(.named("c1.led.green.class"))?.shown == .steady(1))
        #expect(blue.shown == .steady(0))
    }

    @Test func aMeterReadingAndABackendRequestWakeTheLoop() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let port = LoopStationPort(station: rig.station) { _ in }
        rig.station.wake.drain()
        rig.station.meterInbox.post(connector: 1, .recovered(at: rig.clock.now()))
        #expect(signalled(rig))
        #expect(!signalled(rig), "consumed")
        port.submit(.clearAuthorizationCache)
        #expect(signalled(rig))
    }

    /// An idle meter answers the same registers every poll: the OCPP side hears a reading only
    /// when it changed, so an idle station does not wake it every second.
    @Test func theMeterObserverHearsAReadingOnlyWhenItChanged() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        var heard: [Double] = []
        rig.station.meterObserver = { _, sample in heard.append(sample.energyWh) }
        func post(_ wh: Double, _ watts: Double) {
            _ = rig.clock.advance(by: .seconds(Int64(1)))
            let readout = MeterReadout(at: rig.clock.now(), values: [.energyImported: wh, .activePowerTotal: watts])
            rig.station.meterInbox.post(connector: 1, .sample(readout))
            loop.turn(at: rig.clock.now(), inputsChanged: false)
        }
        post(1_000, 0)
        post(1_000, 0)
        post(1_000, 0)
        #expect(heard == [1_000], "an unchanged reading is not handed on again")
        post(1_000, 7)
        post(1_001, 7)
        #expect(heard == [1_000, 1_000, 1_001], "a change in power or energy is")
        #expect(rig.station.lastMeterSample(connector: 1)?.energyWh == 1_001)
    }

    @Test func aTimerThatStaysDueDoesNotMakeTheLoopSpin() throws {
        let rig = try Rig()
        let loop = StationLoop(station: rig.station, port: nil, clock: rig.clock)
        var stuck = LoopDeadlines()
        let now = rig.clock.now()
        stuck.add(.connectorMachine, at: now - .milliseconds(1))
        #expect(loop.wakeUp(for: stuck, at: now) == now)
        #expect(loop.wakeUp(for: stuck, at: now) == now)
        #expect(loop.wakeUp(for: stuck, at: now) == now + rig.station.inputSampling.settleInterval)
    }
}
