import HAL
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

/// Named patterns. The charging core picks one per connector state; the LED works out the
/// colour for any instant.
public enum LEDPattern: Hashable, Sendable {
    case off
    case solid(LEDColor)
    /// On for half of `StatusLEDConfig.slowBlinkPeriod` (default 1 s), off for the other half.
    case blinkSlow(LEDColor)
    /// Same with `fastBlinkPeriod` (default 250 ms): errors.
    case blinkFast(LEDColor)
    /// A "breathing" brightness ramp approximated on on/off channels by software PWM: within
    /// each `pulseFrame` the LED is on for the share given by a triangle wave over
    /// `pulsePeriod`. It only looks smooth when `update(at:)` runs at least once per
    /// `pulseFrame / 10`; at slower update rates it degrades to an irregular blink.
    case pulse(LEDColor)
    /// Alternates between two colours every half `slowBlinkPeriod`.
    case alternate(LEDColor, LEDColor)
}

public struct StatusLEDConfig: Hashable, Sendable {
    public var slowBlinkPeriod: EVSEDuration
    public var fastBlinkPeriod: EVSEDuration
    public var pulsePeriod: EVSEDuration
    public var pulseFrame: EVSEDuration

    public init(slowBlinkPeriod: EVSEDuration = .milliseconds(1_000),
                fastBlinkPeriod: EVSEDuration = .milliseconds(250),
                pulsePeriod: EVSEDuration = .milliseconds(2_000),
                pulseFrame: EVSEDuration = .milliseconds(20)) {
        self.slowBlinkPeriod = slowBlinkPeriod
        self.fastBlinkPeriod = fastBlinkPeriod
        self.pulsePeriod = pulsePeriod
        self.pulseFrame = pulseFrame
    }

    /// The colour `pattern` shows `elapsed` after it was set.
    public func color(of pattern: LEDPattern, elapsed: EVSEDuration) -> LEDColor {
        let t = max(0, elapsed.microseconds)
        func firstHalf(_ period: EVSEDuration) -> Bool {
            let p = max(1, period.microseconds)
            return t % p < p / 2
        }
        switch pattern {
        case .off: return .off
        case let .solid(c): return c
        case let .blinkSlow(c): return firstHalf(slowBlinkPeriod) ? c : .off
        case let .blinkFast(c): return firstHalf(fastBlinkPeriod) ? c : .off
        case let .alternate(a, b): return firstHalf(slowBlinkPeriod) ? a : b
        case let .pulse(c):
            let period = max(2, pulsePeriod.microseconds)
            let phase = Double(t % period) / Double(period)
            let brightness = phase < 0.5 ? phase * 2 : (1 - phase) * 2
            let frame = max(1, pulseFrame.microseconds)
            let inFrame = Double(t % frame) / Double(frame)
            return inFrame < brightness ? c : .off
        }
    }
}

public enum StatusLEDError: Error, Hashable, Sendable, CustomStringConvertible {
    case noLines
    public var description: String { "a status LED needs at least one output line" }
}

/// The outputs behind a status LED.
public enum StatusLEDLines: Sendable {
    /// One RGB LED (any channel may be missing).
    case rgb(red: (any GPIOLine)?, green: (any GPIOLine)?, blue: (any GPIOLine)?)
    /// Separate single-colour LEDs, each keyed by its colour. A colour without its own LED
    /// lights the red/green/blue LEDs that mix it (yellow = red + green) where they exist.
    case discrete([LEDColor: any GPIOLine])
}

/// A status LED showing a named pattern. The owner calls `update(at:)` from its loop; lines
/// are written only when their level changes.
public final class StatusLED: Sendable {
    public let config: StatusLEDConfig
    private let outputs: [(line: any GPIOLine, lit: @Sendable (LEDColor) -> Bool)]

    private struct State {
        var pattern: LEDPattern = .off
        var since: MonotonicInstant = .zero
        var written: [Bool?]
    }
    private let state: Mutex<State>

    public init(config: StatusLEDConfig = StatusLEDConfig(), lines: StatusLEDLines) throws(StatusLEDError) {
        var outs: [(line: any GPIOLine, lit: @Sendable (LEDColor) -> Bool)] = []
        switch lines {
        case let .rgb(red, green, blue):
            if let red { outs.append((red, { $0.channels.red })) }
            if let green { outs.append((green, { $0.channels.green })) }
            if let blue { outs.append((blue, { $0.channels.blue })) }
        case let .discrete(map):
            let keys = Set(map.keys)
            for (ledColor, line) in map.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                outs.append((line, { shown in
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
        self.state = Mutex(State(written: Array(repeating: nil, count: outs.count)))
    }

    public var pattern: LEDPattern { state.withLock { $0.pattern } }

    /// Switches to `pattern` (restarting its timing) and shows its first frame.
    public func set(_ pattern: LEDPattern, at now: MonotonicInstant) throws {
        state.withLock { s in
            if s.pattern != pattern {
                s.pattern = pattern
                s.since = now
            }
        }
        try update(at: now)
    }

    /// Writes the lines for the colour the pattern shows at `now`; returns that colour.
    @discardableResult
    public func update(at now: MonotonicInstant) throws -> LEDColor {
        try state.withLock { s in
            let color = config.color(of: s.pattern, elapsed: now - s.since)
            for (i, out) in outputs.enumerated() {
                let level = out.lit(color)
                if s.written[i] != level {
                    try out.line.write(level)
                    s.written[i] = level
                }
            }
            return color
        }
    }
}
