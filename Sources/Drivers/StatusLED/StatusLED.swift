import HAL
import Locking
import Synchronization

/// Colours an LED can show with on/off channels.
public enum LEDColor: String, Hashable, Sendable, CaseIterable {
    case off, red, green, blue, yellow, cyan, magenta, white

    /// Which of the red, green and blue channels make this colour.
    public var channels: (red: Bool, green: Bool, blue: Bool) {
        switch self {
        case .off: return (false, false, false)
        case .red: return (true, false, false)
        case .green: return (false, true, false)
        case .blue: return (false, false, true)
        case .yellow: return (true, true, false)
        case .cyan: return (false, true, true)
        case .magenta: return (true, false, true)
        case .white: return (true, true, true)
        }
    }
}

/// Named patterns. The charging core picks one per connector state; the LED works out what to
/// show at any instant.
public enum LEDPattern: Hashable, Sendable {
    case off
    case solid(LEDColor)
    /// On for half of `StatusLEDConfig.slowBlinkPeriod` (default 1 s), off for the other half.
    case blinkSlow(LEDColor)
    /// Same with `fastBlinkPeriod` (default 250 ms, 4 Hz): errors.
    case blinkFast(LEDColor)
    /// "Breathing": brightness rises and falls over `pulsePeriod`. On an LED class device the
    /// kernel ramps it; on a PWM channel the duty steps `pulseSteps` times per half period; on
    /// a plain GPIO line it degrades to a slow blink (lit for the bright half of each period),
    /// never to software PWM.
    case pulse(LEDColor)
    /// Alternates between two colours every half `slowBlinkPeriod`.
    case alternate(LEDColor, LEDColor)
}

/// What an LED shows at one instant: a colour at a brightness (1 on on/off lines).
public struct LEDFrame: Hashable, Sendable {
    public var color: LEDColor
    /// 0…1; a GPIO line is lit when the frame's colour needs it, whatever this says.
    public var brightness: Double

    public static let dark = LEDFrame(color: .off, brightness: 0)
}

public struct StatusLEDConfig: Hashable, Sendable {
    public var slowBlinkPeriod: EVSEDuration
    public var fastBlinkPeriod: EVSEDuration
    public var pulsePeriod: EVSEDuration
    /// Brightness steps of a pulse on a PWM channel, per half period: each is one duty write.
    public var pulseSteps: Int
    /// The PWM period of a dimmable channel (1 kHz by default: no visible flicker).
    public var pwmPeriod: EVSEDuration

    public init(slowBlinkPeriod: EVSEDuration = .milliseconds(1_000),
                fastBlinkPeriod: EVSEDuration = .milliseconds(250),
                pulsePeriod: EVSEDuration = .milliseconds(2_000),
                pulseSteps: Int = 8,
                pwmPeriod: EVSEDuration = .microseconds(1_000)) {
        self.slowBlinkPeriod = slowBlinkPeriod
        self.fastBlinkPeriod = fastBlinkPeriod
        self.pulsePeriod = pulsePeriod
        self.pulseSteps = max(1, pulseSteps)
        self.pwmPeriod = pwmPeriod
    }

    /// What `pattern` shows `elapsed` after it was set, on a dimmable (PWM) channel or on an
    /// on/off line.
    public func frame(of pattern: LEDPattern, elapsed: EVSEDuration, dimmable: Bool) -> LEDFrame {
        let t = max(0, elapsed.microseconds)
        func firstHalf(_ period: EVSEDuration) -> Bool {
            let p = max(1, period.microseconds)
            return t % p < p / 2
        }
        func lit(_ c: LEDColor, _ on: Bool) -> LEDFrame { on ? LEDFrame(color: c, brightness: 1) : .dark }
        switch pattern {
        case .off: return .dark
        case let .solid(c): return lit(c, true)
        case let .blinkSlow(c): return lit(c, firstHalf(slowBlinkPeriod))
        case let .blinkFast(c): return lit(c, firstHalf(fastBlinkPeriod))
        case let .alternate(a, b): return lit(firstHalf(slowBlinkPeriod) ? a : b, true)
        case let .pulse(c):
            let period = max(4, pulsePeriod.microseconds)
            let position = t % period
            guard dimmable else {
                // Lit while the triangle is in its upper half: from a quarter to three quarters.
                return lit(c, position >= period / 4 && position < period * 3 / 4)
            }
            // Triangle 0 → 1 → 0, held within each step so a duty is written once per step:
            // levels 0, 1, …, steps, steps − 1, …, 1, then 0 again.
            let steps = Int64(pulseSteps)
            let step = position * 2 * steps / period          // 0 ..< 2·steps
            let level = step <= steps ? step : 2 * steps - step
            return LEDFrame(color: c, brightness: Double(level) / Double(steps))
        }
    }

    /// What an LED class device runs for `pattern` on a channel that is lit for the colours
    /// `lit` accepts. The kernel repeats it by itself, so the firmware writes it once per
    /// pattern change. A pulse keeps the gamma of a PWM channel's steps (the duty is the
    /// square of the brightness), as a ramp through eight points.
    public func kernelShow(of pattern: LEDPattern, lit: (LEDColor) -> Bool) -> KernelLEDShow {
        func square(_ period: EVSEDuration, litFirst: Bool) -> KernelLEDShow {
            let half = Int(max(2, period.microseconds / 1_000) / 2)
            let (a, b): (Double, Double) = litFirst ? (1, 0) : (0, 1)
            // Zero-length steps make jumps: hold a, jump to b, hold b, jump back.
            return .pattern([LEDPatternPoint(brightness: a, milliseconds: half), LEDPatternPoint(brightness: a, milliseconds: 0),
                             LEDPatternPoint(brightness: b, milliseconds: half), LEDPatternPoint(brightness: b, milliseconds: 0)])
        }
        switch pattern {
        case .off: return .steady(0)
        case let .solid(c): return .steady(lit(c) ? 1 : 0)
        case let .blinkSlow(c): return lit(c) ? square(slowBlinkPeriod, litFirst: true) : .steady(0)
        case let .blinkFast(c): return lit(c) ? square(fastBlinkPeriod, litFirst: true) : .steady(0)
        case let .alternate(a, b):
            switch (lit(a), lit(b)) {
            case (true, true): return .steady(1)
            case (false, false): return .steady(0)
            case (true, false): return square(slowBlinkPeriod, litFirst: true)
            case (false, true): return square(slowBlinkPeriod, litFirst: false)
            }
        case let .pulse(c):
            guard lit(c) else { return .steady(0) }
            let step = Int(max(8, pulsePeriod.microseconds / 1_000) / 8)
            // Perceived brightness 0, ¼, ½, ¾, 1, ¾, ½, ¼ → duty its square; back to 0 on repeat.
            let levels: [Double] = [0, 1, 2, 3, 4, 3, 2, 1].map { Double($0 * $0) / 16 }
            return .pattern(levels.map { LEDPatternPoint(brightness: $0, milliseconds: step) })
        }
    }

    /// The colour `pattern` shows on on/off lines `elapsed` after it was set.
    public func color(of pattern: LEDPattern, elapsed: EVSEDuration) -> LEDColor {
        frame(of: pattern, elapsed: elapsed, dimmable: false).color
    }

    /// How often what `pattern` shows can change (nil: never, it is steady).
    public func changeInterval(of pattern: LEDPattern, dimmable: Bool) -> EVSEDuration? {
        switch pattern {
        case .off, .solid: return nil
        case .blinkSlow, .alternate: return .microseconds(max(1, slowBlinkPeriod.microseconds / 2))
        case .blinkFast: return .microseconds(max(1, fastBlinkPeriod.microseconds / 2))
        case .pulse:
            let divisions = dimmable ? 2 * Int64(pulseSteps) : 4
            return .microseconds(max(1, pulsePeriod.microseconds / divisions))
        }
    }
}

public enum StatusLEDError: Error, Hashable, Sendable, CustomStringConvertible {
    case noLines
    public var description: String { "a status LED needs at least one output line" }
}

/// What an LED class device is told to show: a steady brightness or a repeating pattern.
public enum KernelLEDShow: Hashable, Sendable {
    case steady(Double)
    case pattern([LEDPatternPoint])
}

/// One channel of an LED: an on/off GPIO line, a PWM channel that can dim it, or an LED class
/// device whose patterns the kernel runs.
public enum LEDChannel: Sendable {
    case line(any GPIOLine)
    case pwm(any PWMOutput)
    case kernel(any KernelLED)
}

/// The outputs behind a status LED.
public enum StatusLEDLines: Sendable {
    /// One RGB LED (any channel may be missing).
    case rgb(red: LEDChannel?, green: LEDChannel?, blue: LEDChannel?)
    /// Separate single-colour LEDs, each keyed by its colour. A colour without its own LED
    /// lights the red/green/blue LEDs that mix it (yellow = red + green) where they exist.
    case discrete([LEDColor: any GPIOLine])
}

/// A status LED showing a named pattern. The owner calls `update(at:)` from its loop, at the
/// latest at `nextChange(after:)`; an output is written only when what it shows changes: at
/// most 4 line writes a second for a fast blink, `2 × pulseSteps` duty writes per pulse period,
/// and one write per pattern change on an LED class device (the kernel runs the pattern).
public final class StatusLED: Sendable {
    public let config: StatusLEDConfig
    private let outputs: [Output]
    /// Does any channel dim (PWM)? Then a pulse steps in brightness rather than blinking.
    private let dimmable: Bool
    /// Does the firmware step any channel (a line or a PWM channel)? An LED made only of LED
    /// class devices never needs a timer.
    private let stepped: Bool

    private struct Output: Sendable {
        var channel: LEDChannel
        var lit: @Sendable (LEDColor) -> Bool
    }

    private struct State {
        var pattern: LEDPattern = .off
        var since: MonotonicInstant = .zero
        /// The brightness last written per output (0 or 1 on a line); nil before the first write.
        var written: [Double?]
        /// What each LED class device was last told; nil before the first write or when it
        /// must be written again.
        var kernelWritten: [KernelLEDShow?]
        /// What each LED class device is to show for the current pattern (worked out when the
        /// pattern changes, not on every update).
        var kernelTarget: [KernelLEDShow?]
    }
    private let state: Mutex<State>

    public init(config: StatusLEDConfig = StatusLEDConfig(), lines: StatusLEDLines) throws(StatusLEDError) {
        var outs: [Output] = []
        switch lines {
        case let .rgb(red, green, blue):
            if let red { outs.append(Output(channel: red, lit: { $0.channels.red })) }
            if let green { outs.append(Output(channel: green, lit: { $0.channels.green })) }
            if let blue { outs.append(Output(channel: blue, lit: { $0.channels.blue })) }
        case let .discrete(map):
            let keys = Set(map.keys)
            for (ledColor, line) in map.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                outs.append(Output(channel: .line(line), lit: { shown in
                    if shown == ledColor { return true }
                    if keys.contains(shown) || shown == .off { return false }
                    // No LED of this colour: mix from the primaries that exist.
                    let c = shown.channels
                    switch ledColor {
                    case .red: return c.red
                    case .green: return c.green
                    case .blue: return c.blue
                    default: return false
                    }
                }))
            }
        }
        guard !outs.isEmpty else { throw .noLines }
        self.config = config
        self.outputs = outs
        self.dimmable = outs.contains { if case .pwm = $0.channel { return true } else { return false } }
        self.stepped = outs.contains { if case .kernel = $0.channel { return false } else { return true } }
        self.state = Mutex(State(written: Array(repeating: nil, count: outs.count),
                                 kernelWritten: Array(repeating: nil, count: outs.count),
                                 kernelTarget: outs.map { out in
                                     if case .kernel = out.channel { return .steady(0) } else { return nil }
                                 }))
    }

    public var pattern: LEDPattern { state.locked { $0.pattern } }

    /// Switches to `pattern` (restarting its timing) and shows its first frame.
    public func set(_ pattern: LEDPattern, at now: MonotonicInstant) throws {
        state.locked { s in
            if s.pattern != pattern {
                s.pattern = pattern
                s.since = now
                // Every running kernel pattern starts again with the new one, so channels that
                // mix a colour (red + green = yellow) stay in step.
                for i in s.kernelWritten.indices {
                    if case .pattern? = s.kernelWritten[i] { s.kernelWritten[i] = nil }
                    if s.kernelTarget[i] != nil { s.kernelTarget[i] = config.kernelShow(of: pattern, lit: outputs[i].lit) }
                }
            }
        }
        try update(at: now)
    }

    /// Writes the outputs for what the pattern shows at `now`; returns the colour on on/off lines.
    @discardableResult
    public func update(at now: MonotonicInstant) throws -> LEDColor {
        try state.locked { s in
            let elapsed = now - s.since
            let onOff = config.frame(of: s.pattern, elapsed: elapsed, dimmable: false)
            let dimmed = dimmable ? config.frame(of: s.pattern, elapsed: elapsed, dimmable: true) : onOff
            for (i, out) in outputs.enumerated() {
                switch out.channel {
                case let .line(line):
                    let level: Double = out.lit(onOff.color) ? 1 : 0
                    guard s.written[i] != level else { continue }
                    try line.write(level > 0)
                    s.written[i] = level
                case let .pwm(pwm):
                    let level = out.lit(dimmed.color) ? dimmed.brightness : 0
                    guard s.written[i] != level else { continue }
                    let period = UInt64(max(1, config.pwmPeriod.microseconds)) * 1_000
                    // The eye sees brightness roughly as the square of the duty: a gamma of 2
                    // makes the ramp look even.
                    try pwm.configure(periodNanoseconds: period, dutyNanoseconds: UInt64(Double(period) * level * level))
                    if s.written[i] == nil { try pwm.setEnabled(true) }
                    s.written[i] = level
                case let .kernel(led):
                    guard let show = s.kernelTarget[i], s.kernelWritten[i] != show else { continue }
                    switch show {
                    case let .steady(brightness): try led.setBrightness(brightness)
                    case let .pattern(points): try led.runPattern(points)
                    }
                    s.kernelWritten[i] = show
                }
            }
            return onOff.color
        }
    }

    /// The next instant after `now` at which what the LED shows can change; nil while it is
    /// steady. A loop that sleeps until its next deadline wakes for the LED only then.
    public func nextChange(after now: MonotonicInstant) -> MonotonicInstant? {
        guard stepped else { return nil }
        return state.locked { s in
            guard let interval = config.changeInterval(of: s.pattern, dimmable: dimmable) else { return nil }
            let step = max(1, interval.microseconds)
            let elapsed = max(0, (now - s.since).microseconds)
            return s.since + .microseconds((elapsed / step + 1) * step)
        }
    }
}
