import Testing
import HAL
import HALFake
@testable import Drivers

/// A pilot on the fake backend with handles to poke at its PWM and ADCs.
struct PilotRig {
    let backend = FakeBackend()
    let pilot: ControlPilot
    let high: FakeADCInput
    let low: FakeADCInput
    let pwmOutput: FakePWMOutput
    var pwm: FakePWMOutput.Setting { pwmOutput.setting }

    init(_ config: ControlPilotConfig = ControlPilotConfig(debounceSamples: 1), withLow: Bool = true) throws {
        high = backend.adcChannel(.named("cp.high"))
        low = backend.adcChannel(.named("cp.low"))
        low.set(volts: -12)
        pilot = try ControlPilot(config: config, pwm: try backend.openPWM(.named("cp.pwm")),
                                 highLevel: try backend.openADC(.named("cp.high")),
                                 lowLevel: withLow ? try backend.openADC(.named("cp.low")) : nil)
        pwmOutput = try #require(backend.pwm(.named("cp.pwm")))
    }

    /// Sets the high level and samples once at `ms` milliseconds.
    func sample(_ volts: Double, ms: UInt64) throws -> PilotStateChange? {
        high.set(volts: volts)
        return try pilot.sample(at: MonotonicInstant(microseconds: ms * 1_000))
    }
}

@Suite("ControlPilot output")
struct ControlPilotOutputTests {
    @Test("duty for the IEC example currents", arguments: [
        (6.0, 10.0, UInt64(100_000)), (16.0, 26.666_666_7, UInt64(266_667)), (32.0, 53.333_333_3, UInt64(533_333)),
        (51.0, 85.0, UInt64(850_000)), (63.0, 89.2, UInt64(892_000)), (80.0, 96.0, UInt64(960_000)),
    ])
    func dutyForCurrent(amps: Double, percent: Double, dutyNs: UInt64) throws {
        let duty = try #require(ControlPilot.dutyPercent(forCurrent: amps))
        #expect(abs(duty - percent) < 1e-6)
        let rig = try PilotRig()
        try rig.pilot.offer(current: amps)
        #expect(rig.pwm.periodNanoseconds == 1_000_000)
        #expect(rig.pwm.dutyNanoseconds == dutyNs)
        #expect(rig.pwm.enabled)
        #expect(rig.pilot.output == .offering(amps: amps, dutyPercent: duty))
    }

    @Test("currents PWM cannot signal are rejected and change nothing", arguments: [5.9, 80.1, 0, -6, .nan, .infinity])
    func rejectsOutOfRange(amps: Double) throws {
        let rig = try PilotRig()
        try rig.pilot.offer(current: 16)
        let before = rig.pwm
        #expect(throws: ControlPilotError.self) { try rig.pilot.offer(current: amps) }
        #expect(rig.pwm == before)
        #expect(rig.pilot.output == .offering(amps: 16, dutyPercent: 16 / 0.6))
        #expect(ControlPilot.dutyPercent(forCurrent: amps) == nil)
    }

    @Test func rejectsAboveBoardMaximum() throws {
        let rig = try PilotRig(ControlPilotConfig(maximumCurrent: 32))
        try rig.pilot.offer(current: 32)
        #expect(throws: ControlPilotError.currentOutOfRange(amps: 32.5, allowed: 6...32)) {
            try rig.pilot.offer(current: 32.5)
        }
        #expect(rig.pwm.dutyNanoseconds == 533_333)
    }

    @Test func steadyLevelsAndDigitalCommunication() throws {
        let rig = try PilotRig()
        try rig.pilot.setNotReady()
        #expect(rig.pwm.dutyNanoseconds == 1_000_000 && rig.pwm.enabled)
        #expect(rig.pilot.output == .notReady)
        try rig.pilot.setDigitalCommunication()
        #expect(rig.pwm.dutyNanoseconds == 50_000 && rig.pwm.enabled)
        #expect(rig.pilot.output == .digitalCommunication)
        try rig.pilot.setStateF()
        #expect(rig.pwm.dutyNanoseconds == 0 && rig.pwm.enabled, "state F is duty 0 with the PWM enabled")
        #expect(rig.pilot.output == .stateF)
    }

    @Test func polarityComesFromTheBoard() throws {
        let rig = try PilotRig(ControlPilotConfig(pwmPolarity: .inversed))
        try rig.pilot.setNotReady()
        #expect(rig.pwm.polarity == .inversed)
    }

    @Test func noOutputBeforeTheFirstCommand() throws {
        let rig = try PilotRig()
        #expect(rig.pilot.output == nil)
        #expect(rig.backend.pwm(.named("cp.pwm"))?.setting.enabled == false)
    }

    @Test("duty read back as current (IEC 61851-1 Table A.8)", arguments: [
        (5.0, nil), (7.9, nil), (8.0, 6.0), (9.9, 6.0), (10.0, 6.0), (50.0, 30.0), (85.0, 51.0),
        (90.0, 65.0), (96.0, 80.0), (96.5, 80.0), (97.1, nil), (100.0, nil),
    ] as [(Double, Double?)])
    func currentForDuty(duty: Double, amps: Double?) {
        let got = ControlPilot.current(forDutyPercent: duty)
        if let amps {
            #expect(got.map { abs($0 - amps) < 1e-9 } == true, "duty \(duty) % → \(String(describing: got))")
        } else {
            #expect(got == nil)
        }
    }

    @Test func roundTripOverTheWholeRange() throws {
        for tenth in 60...800 {
            let amps = Double(tenth) / 10
            let duty = try #require(ControlPilot.dutyPercent(forCurrent: amps))
            let back = try #require(ControlPilot.current(forDutyPercent: duty))
            if amps > 51, amps <= 52.5 {
                // IEC 61851-1's two formulas meet badly: above 51 A the EVSE formula gives
                // a duty up to 85 %, which the vehicle reads with D × 0.6. It reads less
                // than offered, which is the safe side.
                #expect(back < amps && back > 50, "\(amps) A read as \(back) A")
            } else {
                #expect(abs(back - amps) < 1e-9, "\(amps) A")
            }
        }
    }

    @Test func invalidConfigurationsAreRejected() throws {
        let backend = FakeBackend()
        let pwm = try backend.openPWM(.named("p"))
        let adc = try backend.openADC(.named("a"))
        #expect(throws: ControlPilotError.self) {
            _ = try ControlPilot(config: ControlPilotConfig(debounceSamples: 0), pwm: pwm, highLevel: adc)
        }
        #expect(throws: ControlPilotError.self) {
            _ = try ControlPilot(config: ControlPilotConfig(pwmPeriodNanoseconds: 0), pwm: pwm, highLevel: adc)
        }
        #expect(throws: ControlPilotError.self) {
            _ = try ControlPilot(config: ControlPilotConfig(maximumCurrent: 100), pwm: pwm, highLevel: adc)
        }
    }

    @Test func polarityAndEnableAreWrittenOnceAndAfterAFailure() throws {
        final class RecordingPWM: PWMOutput, @unchecked Sendable {
            let name = "rec"
            var calls: [String] = []
            var failNext = false
            func configure(periodNanoseconds: UInt64, dutyNanoseconds: UInt64) throws {
                if failNext { failNext = false; throw HardwareError(.ioFailed, device: name, "write failed") }
                calls.append("configure \(periodNanoseconds) \(dutyNanoseconds)")
            }
            func setPolarity(_ polarity: PWMPolarity) throws { calls.append("polarity \(polarity.rawValue)") }
            func setEnabled(_ enabled: Bool) throws { calls.append("enabled \(enabled)") }
        }
        let pwm = RecordingPWM()
        let backend = FakeBackend()
        let pilot = try ControlPilot(config: ControlPilotConfig(), pwm: pwm, highLevel: try backend.openADC(.named("a")))
        try pilot.setNotReady()
        try pilot.offer(current: 6)
        #expect(pwm.calls == ["polarity normal", "configure 1000000 1000000", "enabled true", "configure 1000000 100000"])
        pwm.calls = []
        pwm.failNext = true
        #expect(throws: HardwareError.self) { try pilot.offer(current: 16) }
        try pilot.offer(current: 16)
        #expect(pwm.calls == ["polarity normal", "configure 1000000 266667", "enabled true"], "redone in full after the failure")
        #expect(!pwm.calls.contains("enabled false"), "never disabled: that would show the vehicle −12 V")
    }

    @Test func failingPWMPropagatesTheHardwareError() throws {
        final class BrokenPWM: PWMOutput {
            let name = "broken"
            func configure(periodNanoseconds: UInt64, dutyNanoseconds: UInt64) throws {
                throw HardwareError(.ioFailed, device: name, "write failed")
            }
            func setPolarity(_ polarity: PWMPolarity) throws {}
            func setEnabled(_ enabled: Bool) throws {}
        }
        let backend = FakeBackend()
        let pilot = try ControlPilot(config: ControlPilotConfig(), pwm: BrokenPWM(),
                                     highLevel: try backend.openADC(.named("a")))
        #expect(throws: HardwareError.self) { try pilot.offer(current: 16) }
        #expect(pilot.output == nil, "a failed write does not claim the new output")
    }
}

@Suite("CP voltage bands")
struct CPVoltageBandsTests {
    let bands = CPVoltageBands.iec61851

    @Test("inside a band the state is that band's", arguments: [
        (12.0, CPState.a), (11.0, .a), (13.0, .a), (14.5, .a), (10.0, .b), (9.0, .b), (8.0, .b),
        (7.0, .c), (6.0, .c), (5.0, .c), (4.0, .d), (3.0, .d), (2.0, .d), (1.0, .e), (0.0, .e), (-1.0, .e),
        (-11.0, .f), (-12.0, .f), (-13.0, .f), (-15.0, .f),
    ])
    func inBand(volts: Double, state: CPState) {
        for previous in [nil] + CPState.allCases.map(Optional.some) {
            #expect(bands.classify(volts, previous: previous) == state, "\(volts) V after \(String(describing: previous))")
        }
    }

    @Test("in a gap the previous state holds when it borders the gap", arguments: [
        (10.5, CPState.a, CPState.a), (10.5, .b, .b), (10.99, .b, .b), (10.01, .a, .a),
        (7.5, .b, .b), (7.5, .c, .c), (4.5, .c, .c), (4.5, .d, .d), (1.5, .d, .d), (1.5, .e, .e),
        (-5.0, .e, .e), (-5.0, .f, .f),
    ])
    func gapHysteresis(volts: Double, previous: CPState, expected: CPState) {
        #expect(bands.classify(volts, previous: previous) == expected)
    }

    @Test("in a gap, coming from elsewhere, the nearer band wins; ties go low", arguments: [
        (10.9, CPState?.none, CPState.a), (10.1, nil, .b), (10.5, nil, .b), (10.6, .c, .a),
        (7.4, .a, .c), (7.6, .a, .b), (1.2, .a, .e), (1.8, .a, .d), (-9.0, .a, .f), (-2.0, .a, .e),
    ])
    func gapNearest(volts: Double, previous: CPState?, expected: CPState) {
        #expect(bands.classify(volts, previous: previous) == expected)
    }

    @Test func nanIsNoPilot() {
        #expect(bands.classify(.nan, previous: .b) == .e)
    }

    @Test func badBandTablesAreRejected() {
        var wrongOrder = CPVoltageBands.iec61851.bands
        wrongOrder.swapAt(0, 1)
        #expect(throws: ControlPilotError.self) { _ = try CPVoltageBands(bands: wrongOrder) }
        var overlapping = CPVoltageBands.iec61851.bands
        overlapping[1].upper = 11.5
        #expect(throws: ControlPilotError.self) { _ = try CPVoltageBands(bands: overlapping) }
        var inverted = CPVoltageBands.iec61851.bands
        inverted[2].lower = 8
        #expect(throws: ControlPilotError.self) { _ = try CPVoltageBands(bands: inverted) }
        #expect(throws: Never.self) { _ = try CPVoltageBands(bands: CPVoltageBands.iec61851.bands) }
    }
}

@Suite("ControlPilot sense")
struct ControlPilotSenseTests {
    @Test func firstStateIsReportedFromNil() throws {
        let rig = try PilotRig()
        let change = try #require(try rig.sample(12, ms: 10))
        #expect(change.from == nil && change.to == .a && !change.diodeFault)
        #expect(change.at == MonotonicInstant(microseconds: 10_000))
        #expect(change.highVolts == 12 && change.lowVolts == -12)
        #expect(rig.pilot.currentState == .a)
        #expect(try rig.sample(12, ms: 20) == nil, "no change, no event")
    }

    @Test func hysteresisKeepsTheStateAcrossTheGap() throws {
        let rig = try PilotRig()
        _ = try rig.sample(9, ms: 0)
        #expect(try rig.sample(10.8, ms: 10) == nil, "10.8 V after B stays B")
        #expect(rig.pilot.currentState == .b)
        #expect(try rig.sample(11.0, ms: 20)?.to == .a)
        #expect(try rig.sample(10.2, ms: 30) == nil, "10.2 V after A stays A")
        #expect(try rig.sample(9.99, ms: 40)?.to == .b)
        #expect(try rig.sample(7.01, ms: 45) == nil, "7.01 V is in the B/C gap")
        #expect(try rig.sample(7.0, ms: 50)?.to == .c)
        #expect(try rig.sample(7.99, ms: 60) == nil)
        #expect(try rig.sample(8.0, ms: 70)?.to == .b)
    }

    @Test func debounceNeedsNConsecutiveSamples() throws {
        let rig = try PilotRig(ControlPilotConfig(debounceSamples: 3))
        #expect(try rig.sample(9, ms: 0) == nil)
        #expect(try rig.sample(9, ms: 10) == nil)
        let b = try #require(try rig.sample(9, ms: 20))
        #expect(b.to == .b && b.firstSeenAt == MonotonicInstant(microseconds: 0))
        // Two C samples interrupted by a B restart the count.
        #expect(try rig.sample(6, ms: 30) == nil)
        #expect(try rig.sample(6, ms: 40) == nil)
        #expect(try rig.sample(9, ms: 50) == nil)
        #expect(try rig.sample(6, ms: 60) == nil)
        #expect(try rig.sample(6, ms: 70) == nil)
        #expect(rig.pilot.currentState == .b)
        let c = try #require(try rig.sample(6, ms: 80))
        #expect(c.from == .b && c.to == .c)
        #expect(c.firstSeenAt == MonotonicInstant(microseconds: 60_000))
        #expect(c.at == MonotonicInstant(microseconds: 80_000))
    }

    @Test func aSpikeShorterThanTheDebounceIsIgnored() throws {
        let rig = try PilotRig(ControlPilotConfig(debounceSamples: 2))
        _ = try rig.sample(6, ms: 0)
        #expect(try rig.sample(6, ms: 10)?.to == .c)
        #expect(try rig.sample(0, ms: 20) == nil)
        #expect(try rig.sample(6, ms: 30) == nil)
        #expect(rig.pilot.currentState == .c)
    }

    @Test func diodeFaultWhilePWMRuns() throws {
        let rig = try PilotRig()
        try rig.pilot.offer(current: 16)
        #expect(try rig.sample(9, ms: 0)?.to == .b)
        rig.low.set(volts: 0)
        let fault = try #require(try rig.sample(9, ms: 10))
        #expect(fault.from == .b && fault.to == .f && fault.diodeFault)
        #expect(fault.lowVolts == 0)
        #expect(rig.pilot.diodeFault)
        rig.low.set(volts: -12)
        let back = try #require(try rig.sample(9, ms: 20))
        #expect(back.to == .b && !back.diodeFault)
        #expect(!rig.pilot.diodeFault)
    }

    @Test func diodeThresholdEdge() throws {
        let rig = try PilotRig()
        try rig.pilot.offer(current: 16)
        rig.low.set(volts: -10)
        #expect(try rig.sample(6, ms: 0)?.to == .c, "−10 V is still a diode")
        rig.low.set(volts: -9.9)
        #expect(try rig.sample(6, ms: 10)?.diodeFault == true)
    }

    @Test func noDiodeCheckWithoutOscillationOrOutsideBCD() throws {
        let rig = try PilotRig()
        rig.low.set(volts: 0)
        try rig.pilot.setNotReady()
        #expect(try rig.sample(9, ms: 0)?.to == .b, "steady +12 V has no negative half-wave")
        try rig.pilot.offer(current: 16)
        #expect(try rig.sample(12, ms: 10)?.to == .a, "A has no vehicle, so no diode")
        #expect(try rig.sample(9, ms: 20)?.to == .f)
    }

    @Test func diodeCheckCanBeOffOrMissing() throws {
        let off = try PilotRig(ControlPilotConfig(debounceSamples: 1, diodeCheck: false))
        try off.pilot.offer(current: 16)
        off.low.set(volts: 0)
        #expect(try off.sample(9, ms: 0)?.to == .b)
        let noLow = try PilotRig(withLow: false)
        try noLow.pilot.offer(current: 16)
        let change = try #require(try noLow.sample(9, ms: 0))
        #expect(change.to == .b && change.lowVolts == nil)
    }

    @Test func calibrationIsApplied() throws {
        let rig = try PilotRig(ControlPilotConfig(highCalibration: ADCCalibration(gain: 4, offset: -3), debounceSamples: 1))
        let change = try #require(try rig.sample(3.0, ms: 0))
        #expect(change.to == .b && change.highVolts == 9)
    }

    @Test func aFailedReadThrowsAndKeepsTheDebounceRun() throws {
        let rig = try PilotRig(ControlPilotConfig(debounceSamples: 2))
        _ = try rig.sample(6, ms: 0)
        rig.high.fail(with: HardwareError(.ioFailed, device: "cp.high", "read failed"))
        #expect(throws: HardwareError.self) { try rig.pilot.sample(at: MonotonicInstant(microseconds: 5_000)) }
        rig.high.fail(with: nil)
        let c = try #require(try rig.sample(6, ms: 10))
        #expect(c.to == .c && c.firstSeenAt == .zero)
    }

    @Test func stateFOutputReadsAsF() throws {
        let rig = try PilotRig()
        try rig.pilot.setStateF()
        let change = try #require(try rig.sample(-12, ms: 0))
        #expect(change.to == .f && !change.diodeFault)
    }
}
