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
        let led = try StatusLED(lines: .rgb(red: r, green: g, blue: b))
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

    @Test func pulseDutyFollowsATriangle() {
        let c = StatusLEDConfig(pulsePeriod: .milliseconds(2_000), pulseFrame: .milliseconds(20))
        func onShare(around ms: Int64) -> Double {
            // Share of 1 ms steps lit over the frame that starts at `ms`.
            let lit = (0..<20).filter { c.color(of: .pulse(.blue), elapsed: .milliseconds(ms + Int64($0))) == .blue }
            return Double(lit.count) / 20
        }
        #expect(onShare(around: 0) <= 0.05, "dark at the start")
        #expect(abs(onShare(around: 500) - 0.5) <= 0.06, "half way up")
        #expect(onShare(around: 980) >= 0.95, "bright at the top")
        #expect(abs(onShare(around: 1_500) - 0.5) <= 0.06, "half way down")
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
}
