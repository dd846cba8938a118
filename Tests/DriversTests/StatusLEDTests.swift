import Testing
import HAL
import HALFake
@testable import Drivers

@Suite("StatusLED")
struct StatusLEDTests {
    let backend = FakeBackend()
    let out = GPIOLineConfig(direction: .output(initial: false))

    func rgb() throws -> (StatusLED, FakeGPIOLine, FakeGPIOLine, FakeGPIOLine) {
        let r = try backend.openGPIOLine(.name("r"), config: out)
        let g = try backend.openGPIOLine(.name("g"), config: out)
        let b = try backend.openGPIOLine(.name("b"), config: out)
        let led = try StatusLED(lines: .rgb(red: .line(r), green: .line(g), blue: .line(b)))
        return (led, try #require(backend.line(named: "r")), try #require(backend.line(named: "g")),
                try #require(backend.line(named: "b")))
    }

    @Test func solidColoursMixChannels() throws {
        let (led, r, g, b) = try rgb()
        try led.set(.solid(.yellow), at: ms(0))
        #expect(r.level && g.level && !b.level)
        try led.set(.solid(.cyan), at: ms(1))
        #expect(!r.level && g.level && b.level)
        try led.set(.off, at: ms(2))
        #expect(!r.level && !g.level && !b.level)
    }

    @Test func slowBlinkTiming() throws {
        let (led, _, g, _) = try rgb()
        try led.set(.blinkSlow(.green), at: ms(1_000))
        #expect(g.level)
        #expect(try led.update(at: ms(1_499)) == .green)
        #expect(try led.update(at: ms(1_500)) == .off)
        #expect(!g.level)
        #expect(try led.update(at: ms(1_999)) == .off)
        #expect(try led.update(at: ms(2_000)) == .green)
        #expect(g.level)
    }

    @Test func fastBlinkAndAlternate() {
        let c = StatusLEDConfig()
        #expect(c.color(of: .blinkFast(.red), elapsed: .milliseconds(124)) == .red)
        #expect(c.color(of: .blinkFast(.red), elapsed: .milliseconds(125)) == .off)
        #expect(c.color(of: .blinkFast(.red), elapsed: .milliseconds(250)) == .red)
        #expect(c.color(of: .alternate(.red, .blue), elapsed: .milliseconds(0)) == .red)
        #expect(c.color(of: .alternate(.red, .blue), elapsed: .milliseconds(600)) == .blue)
    }

    @Test func aPulseOnAPlainLineIsASlowBlinkNotSoftwarePWM() throws {
        let (led, _, _, b) = try rgb()
        try led.set(.pulse(.blue), at: ms(0))
        for t in 1...10_000 { try led.update(at: ms(UInt64(t))) }
        // 2 s period: lit from 0.5 s to 1.5 s of each; 5 periods → 10 writes after the first.
        #expect(b.writes.count == 11)
        #expect(b.writes.first == false)
        #expect(led.nextChange(after: ms(10_000)) == ms(10_500))
    }

    @Test func noPatternBlinksAPlainLineFasterThan4Hz() throws {
        let patterns: [LEDPattern] = [.blinkFast(.red), .blinkSlow(.red), .pulse(.red), .alternate(.red, .green)]
        for pattern in patterns {
            let backend = FakeBackend()
            let r = try backend.openGPIOLine(.name("r"), config: out)
            let led = try StatusLED(lines: .rgb(red: .line(r), green: nil, blue: nil))
            try led.set(pattern, at: ms(0))
            for t in 1...10_000 { try led.update(at: ms(UInt64(t))) }
            let toggles = try #require(backend.line(named: "r")).writes.count - 1
            #expect(toggles <= 2 * 4 * 10, "\(pattern): \(toggles) changes in 10 s")
        }
    }

    @Test func aPulseOnAPWMChannelBreathesInSteps() throws {
        let pwmOut = try backend.openPWM(.named("b.pwm"))
        let pwm = try #require(backend.pwm(.named("b.pwm")))
        let led = try StatusLED(config: StatusLEDConfig(pulsePeriod: .milliseconds(2_000), pulseSteps: 8),
                                lines: .rgb(red: nil, green: nil, blue: .pwm(pwmOut)))
        try led.set(.pulse(.blue), at: ms(0))
        #expect(pwm.setting.enabled && pwm.setting.periodNanoseconds == 1_000_000)
        var dutyAt: [UInt64: Double] = [:]
        for t in 1..<4_000 {
            try led.update(at: ms(UInt64(t)))
            if t % 250 == 0 { dutyAt[UInt64(t)] = pwm.setting.dutyPercent }
        }
        // 16 steps per 2 s period (8 up, 8 down): one duty write per step, not one per update.
        #expect(pwm.configuredDuties.count == 32)
        #expect(dutyAt[1_000]! > 95, "bright at the top")
        #expect(dutyAt[2_000]! < 5, "dark at the bottom")
        #expect(dutyAt[500]! > 20 && dutyAt[500]! < 50, "half way up, after the gamma")
        #expect(dutyAt[1_500] == dutyAt[500], "the way down mirrors the way up")
        #expect(led.nextChange(after: ms(4_000)) == ms(4_125))
    }

    @Test func aPWMChannelTakesSolidAndBlinkPatternsAtFullBrightness() throws {
        let pwmOut = try backend.openPWM(.named("r.pwm"))
        let g = try backend.openGPIOLine(.name("g"), config: out)
        let pwm = try #require(backend.pwm(.named("r.pwm")))
        let led = try StatusLED(lines: .rgb(red: .pwm(pwmOut), green: .line(g), blue: nil))
        try led.set(.solid(.yellow), at: ms(0))
        #expect(pwm.setting.dutyPercent == 100 && backend.line(named: "g")?.level == true)
        try led.set(.blinkFast(.red), at: ms(10))
        #expect(pwm.setting.dutyPercent == 100 && backend.line(named: "g")?.level == false)
        try led.update(at: ms(10 + 125))
        #expect(pwm.setting.dutyPercent == 0)
    }

    @Test func steadyPatternsNeedNoWakeUp() throws {
        let (led, _, _, _) = try rgb()
        try led.set(.solid(.green), at: ms(0))
        #expect(led.nextChange(after: ms(5)) == nil)
        try led.set(.blinkSlow(.green), at: ms(1_000))
        #expect(led.nextChange(after: ms(1_000)) == ms(1_500))
        #expect(led.nextChange(after: ms(1_499)) == ms(1_500))
        #expect(led.nextChange(after: ms(1_500)) == ms(2_000))
    }

    @Test func linesAreOnlyWrittenOnChange() throws {
        let (led, r, _, _) = try rgb()
        try led.set(.solid(.red), at: ms(0))
        for t in 1...10 { try led.update(at: ms(UInt64(t) * 100)) }
        #expect(r.writes == [true])
    }

    @Test func settingTheSamePatternKeepsItsPhase() throws {
        let (led, _, g, _) = try rgb()
        try led.set(.blinkSlow(.green), at: ms(0))
        try led.set(.blinkSlow(.green), at: ms(600))
        #expect(!g.level, "still in the off half of the first period")
    }

    @Test func discreteLEDs() throws {
        let red = try backend.openGPIOLine(.name("red"), config: out)
        let green = try backend.openGPIOLine(.name("green"), config: out)
        let blue = try backend.openGPIOLine(.name("blue"), config: out)
        let led = try StatusLED(lines: .discrete([.red: red, .green: green, .blue: blue]))
        let r = try #require(backend.line(named: "red")), g = try #require(backend.line(named: "green"))
        let b = try #require(backend.line(named: "blue"))
        try led.set(.solid(.green), at: ms(0))
        #expect(!r.level && g.level && !b.level)
        try led.set(.solid(.yellow), at: ms(1))
        #expect(r.level && g.level && !b.level, "no yellow LED: mixed from red and green")
        try led.set(.solid(.white), at: ms(2))
        #expect(r.level && g.level && b.level)
    }

    @Test func discreteLEDOfItsOwnColour() throws {
        let yellow = try backend.openGPIOLine(.name("y"), config: out)
        let red = try backend.openGPIOLine(.name("red"), config: out)
        let led = try StatusLED(lines: .discrete([.yellow: yellow, .red: red]))
        try led.set(.solid(.yellow), at: ms(0))
        #expect(backend.line(named: "y")?.level == true && backend.line(named: "red")?.level == false)
    }

    @Test func needsALine() {
        #expect(throws: StatusLEDError.noLines) { _ = try StatusLED(lines: .rgb(red: nil, green: nil, blue: nil)) }
    }

    // MARK: LED class devices

    func kernelRGB() throws -> (StatusLED, FakeKernelLED, FakeKernelLED, FakeKernelLED) {
        func open(_ n: String) throws -> any KernelLED { try backend.openLED(.named(n)) }
        let led = try StatusLED(lines: .rgb(red: .kernel(open("r")), green: .kernel(open("g")), blue: .kernel(open("b"))))
        return (led, try #require(backend.led(.named("r"))), try #require(backend.led(.named("g"))),
                try #require(backend.led(.named("b"))))
    }

    @Test func aPulseOnAnLEDClassDeviceIsOnePatternWriteAndNoTimer() throws {
        let (led, r, g, b) = try kernelRGB()
        try led.set(.pulse(.blue), at: ms(0))
        #expect(led.nextChange(after: ms(0)) == nil, "the kernel breathes; the firmware needs no wake-up")
        for t in 1...100 { try led.update(at: ms(UInt64(t) * 100)) }
        #expect(r.writes == [.steady(0)] && g.writes == [.steady(0)])
        guard case let .pattern(points)? = b.shown, b.writes.count == 1 else {
            Issue.record("expected one pattern write, got \(b.writes)"); return
        }
        // 2 s: eight 250 ms ramps through the squares of 0, ¼, ½, ¾, 1, ¾, ½, ¼ (a PWM channel's gamma).
        #expect(points.map(\.milliseconds) == Array(repeating: 250, count: 8))
        let squares: [Double] = [0, 0.0625, 0.25, 0.5625, 1, 0.5625, 0.25, 0.0625]
        #expect(points.map(\.brightness) == squares)
    }

    @Test func aBlinkOnAnLEDClassDeviceIsASquarePatternWithJumps() throws {
        let (led, r, _, _) = try kernelRGB()
        try led.set(.blinkFast(.red), at: ms(0))
        #expect(r.shown == .pattern([LEDPatternPoint(brightness: 1, milliseconds: 125), LEDPatternPoint(brightness: 1, milliseconds: 0),
                                     LEDPatternPoint(brightness: 0, milliseconds: 125), LEDPatternPoint(brightness: 0, milliseconds: 0)]))
        try led.set(.solid(.red), at: ms(300))
        #expect(r.shown == .steady(1) && r.writes.count == 2)
    }

    @Test func aNewPatternRestartsEveryChannelSoMixedColoursStayInStep() throws {
        let (led, r, g, b) = try kernelRGB()
        try led.set(.blinkSlow(.red), at: ms(0))
        let redBlink = try #require(r.shown)
        // Yellow = red + green: red's blink is the same, but it is written again with green's.
        try led.set(.blinkSlow(.yellow), at: ms(700))
        #expect(r.writes == [redBlink, redBlink] && g.shown == redBlink)
        #expect(b.writes == [.steady(0)], "a steady channel is not rewritten")
        // Alternating red and green: each channel lit in its own half.
        try led.set(.alternate(.red, .green), at: ms(1_000))
        guard case let .pattern(red)? = r.shown, case let .pattern(green)? = g.shown else {
            Issue.record("expected patterns, got \(String(describing: r.shown)), \(String(describing: g.shown))"); return
        }
        #expect(red.first?.brightness == 1 && green.first?.brightness == 0)
    }

    @Test func aFailedLEDClassWriteIsRetriedAtTheNextUpdate() throws {
        let (led, _, _, b) = try kernelRGB()
        b.fail(with: HardwareError(.ioFailed, device: "b", "EIO"))
        #expect(throws: HardwareError.self) { try led.set(.pulse(.blue), at: ms(0)) }
        #expect(b.writes.isEmpty)
        b.fail(with: nil)
        try led.update(at: ms(100))
        guard case .pattern? = b.shown else { Issue.record("the pattern was not written again"); return }
        try led.update(at: ms(200))
        #expect(b.writes.count == 1)
    }

    @Test func aGPIOLineBesideAnLEDClassDeviceIsStillStepped() throws {
        let g = try backend.openGPIOLine(.name("g"), config: out)
        let b = try backend.openLED(.named("b"))
        let led = try StatusLED(lines: .rgb(red: nil, green: .line(g), blue: .kernel(b)))
        try led.set(.blinkSlow(.cyan), at: ms(0))
        #expect(led.nextChange(after: ms(0)) == ms(500), "the GPIO line still blinks on the firmware's timer")
        try led.update(at: ms(500))
        #expect(backend.line(named: "g")?.writes == [true, false])
        #expect(backend.led(.named("b"))?.writes.count == 1)
    }
}
