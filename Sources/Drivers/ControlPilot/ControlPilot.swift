import HAL
import Locking
import Synchronization

/// What went wrong in a control-pilot request. Hardware failures come as `HardwareError`.
public enum ControlPilotError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An offered current outside what IEC 61851-1 PWM can signal or the board allows.
    case currentOutOfRange(amps: Double, allowed: ClosedRange<Double>)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .currentOutOfRange(amps, allowed):
            return "offered current \(amps) A is outside \(allowed.lowerBound)…\(allowed.upperBound) A"
        case let .invalidConfiguration(why):
            return "control pilot configuration: \(why)"
        }
    }
}

/// Board-specific settings of one control pilot. A board file maps onto this.
public struct ControlPilotConfig: Hashable, Sendable {
    /// PWM period; IEC 61851-1 wants 1 kHz (1 000 000 ns).
    public var pwmPeriodNanoseconds: UInt64
    /// `.inversed` when the board's output stage inverts the PWM pin. Duty values given to
    /// the driver are always the share of the period the CP is at +12 V.
    public var pwmPolarity: PWMPolarity
    /// Maps the ADC pin voltage of the high-level channel to volts on the CP line.
    public var highCalibration: ADCCalibration
    /// Same for the low-level (negative half-wave) channel.
    public var lowCalibration: ADCCalibration
    /// How many consecutive samples must agree before a state change is reported (≥ 1).
    public var debounceSamples: Int
    public var bands: CPVoltageBands
    /// Whether to check the vehicle's diode on the low level (needs a low-level ADC).
    public var diodeCheck: Bool
    /// While the PWM oscillates in B/C/D the low level must be at or below this; a higher
    /// low level means the vehicle's diode is missing or shorted.
    public var diodeMaxLowVolts: Double
    /// The most the hardware behind this pilot may offer (cable, contactor, wiring), ≤ 80 A.
    public var maximumCurrent: Double

    public init(pwmPeriodNanoseconds: UInt64 = 1_000_000,
                pwmPolarity: PWMPolarity = .normal,
                highCalibration: ADCCalibration = .identity,
                lowCalibration: ADCCalibration = .identity,
                debounceSamples: Int = 3,
                bands: CPVoltageBands = .iec61851,
                diodeCheck: Bool = true,
                diodeMaxLowVolts: Double = -10,
                maximumCurrent: Double = 80) {
        self.pwmPeriodNanoseconds = pwmPeriodNanoseconds
        self.pwmPolarity = pwmPolarity
        self.highCalibration = highCalibration
        self.lowCalibration = lowCalibration
        self.debounceSamples = debounceSamples
        self.bands = bands
        self.diodeCheck = diodeCheck
        self.diodeMaxLowVolts = diodeMaxLowVolts
        self.maximumCurrent = maximumCurrent
    }

    func validate() throws(ControlPilotError) {
        guard pwmPeriodNanoseconds > 0 else { throw .invalidConfiguration("PWM period must be above 0 ns") }
        guard debounceSamples >= 1 else {
            throw .invalidConfiguration("debounceSamples must be at least 1, got \(debounceSamples)")
        }
        guard maximumCurrent >= 6, maximumCurrent <= 80 else {
            throw .invalidConfiguration("maximumCurrent must be within 6…80 A, got \(maximumCurrent)")
        }
        guard diodeMaxLowVolts.isFinite else { throw .invalidConfiguration("diodeMaxLowVolts must be a number") }
    }
}

/// What the pilot PWM is currently told to signal.
public enum PilotOutput: Hashable, Sendable {
    /// Steady +12 V (100 %): EVSE not ready / no current available.
    case notReady
    /// 1 kHz PWM whose duty encodes the offered current.
    case offering(amps: Double, dutyPercent: Double)
    /// 5 % duty: digital communication (ISO 15118) required.
    case digitalCommunication
    /// Steady −12 V: state F, EVSE not available.
    case stateF

    /// True while the CP oscillates, i.e. a negative half-wave exists to check the diode on.
    public var oscillates: Bool {
        switch self {
        case .offering, .digitalCommunication: return true
        case .notReady, .stateF: return false
        }
    }
}

/// A debounced change of the pilot state, stamped with the sample that confirmed it.
public struct PilotStateChange: Hashable, Sendable, CustomStringConvertible {
    /// nil for the first state after start.
    public var from: CPState?
    public var to: CPState
    /// True when `to` is `.f` because the diode check failed (high level said B/C/D).
    public var diodeFault: Bool
    /// The sample that confirmed the change (the driver knew from then on).
    public var at: MonotonicInstant
    /// The first sample of the run of agreeing samples (when the change began).
    public var firstSeenAt: MonotonicInstant
    /// Calibrated volts on the CP line at `at`.
    public var highVolts: Double
    public var lowVolts: Double?

    public init(from: CPState?, to: CPState, diodeFault: Bool, at: MonotonicInstant,
                firstSeenAt: MonotonicInstant, highVolts: Double, lowVolts: Double?) {
        self.from = from
        self.to = to
        self.diodeFault = diodeFault
        self.at = at
        self.firstSeenAt = firstSeenAt
        self.highVolts = highVolts
        self.lowVolts = lowVolts
    }

    public var description: String {
        let f = from.map(\.rawValue) ?? "-"
        let low = lowVolts.map { " low \($0) V" } ?? ""
        return "\(f)→\(to)\(diodeFault ? " (diode fault)" : "") at \(at), high \(highVolts) V\(low)"
    }
}

/// One IEC 61851-1 control pilot: drives the 1 kHz PWM and classifies the sensed CP levels
/// into states A…F with hysteresis, debounce and the vehicle diode check.
///
/// Pure logic over a `PWMOutput` and one or two `ADCInput`s: it never reads the clock; the
/// caller samples it (`sample(at:)`) at its own cadence, typically every 10–20 ms.
/// The driver does not touch the hardware until told to: the owner sets the initial output
/// (usually `setNotReady()`) right after construction.
public final class ControlPilot: Sendable {
    public let config: ControlPilotConfig
    private let pwm: any PWMOutput
    private let highLevel: any ADCInput
    private let lowLevel: (any ADCInput)?

    private struct Observation: Hashable {
        var state: CPState
        var diodeFault: Bool
    }

    private struct State {
        var output: PilotOutput?
        /// Polarity set and channel enabled.
        var pwmPrepared = false
        var lastRaw: CPState?
        var candidate: Observation?
        var candidateSince: MonotonicInstant = .zero
        var candidateCount = 0
        var stable: Observation?
        var lastHigh: Double?
        var lastLow: Double?
    }
    private let state = Mutex(State())

    /// Fails with `ControlPilotError.invalidConfiguration` on a config that cannot work.
    public init(config: ControlPilotConfig, pwm: any PWMOutput, highLevel: any ADCInput,
                lowLevel: (any ADCInput)? = nil) throws(ControlPilotError) {
        try config.validate()
        self.config = config
        self.pwm = pwm
        self.highLevel = highLevel
        self.lowLevel = lowLevel
    }

    // MARK: Duty ↔ current (IEC 61851-1 Annex A)

    /// The range of currents a PWM duty can signal.
    public static let signallableCurrent: ClosedRange<Double> = 6...80

    /// Duty (percent of the period at +12 V) that offers `amps`: I / 0.6 from 6 A to 51 A,
    /// I / 2.5 + 64 above 51 A up to 80 A. Nil outside 6…80 A.
    public static func dutyPercent(forCurrent amps: Double) -> Double? {
        guard amps.isFinite, signallableCurrent.contains(amps) else { return nil }
        return amps <= 51 ? amps / 0.6 : amps / 2.5 + 64
    }

    /// The current a vehicle reads from `duty` percent (IEC 61851-1 Table A.8): 8–10 % → 6 A,
    /// 10–85 % → D × 0.6, 85–96 % → (D − 64) × 2.5, 96–97 % → 80 A. Nil where the duty
    /// offers no current (below 8 %, which includes 5 % digital communication, or above 97 %).
    public static func current(forDutyPercent duty: Double) -> Double? {
        guard duty.isFinite else { return nil }
        switch duty {
        case 8..<10: return 6
        case 10...85: return duty * 0.6
        case 85...96: return (duty - 64) * 2.5
        case 96...97: return 80
        default: return nil
        }
    }

    // MARK: Output

    /// What the PWM was last told to signal (nil before the first command).
    public var output: PilotOutput? { state.locked { $0.output } }

    /// The currents this pilot may offer: 6 A up to the board's maximum.
    public var offerableCurrent: ClosedRange<Double> { 6...config.maximumCurrent }

    /// Offers `amps` by PWM duty. Rejects anything outside 6 A…`maximumCurrent` (≤ 80 A)
    /// with `currentOutOfRange`, changing nothing.
    public func offer(current amps: Double) throws {
        let allowed = offerableCurrent
        guard amps.isFinite, allowed.contains(amps), let duty = Self.dutyPercent(forCurrent: amps) else {
            throw ControlPilotError.currentOutOfRange(amps: amps, allowed: allowed)
        }
        try apply(.offering(amps: amps, dutyPercent: duty), dutyPercent: duty)
    }

    /// Steady +12 V (100 % duty).
    public func setNotReady() throws { try apply(.notReady, dutyPercent: 100) }

    /// 5 % duty: the vehicle must use digital communication.
    public func setDigitalCommunication() throws { try apply(.digitalCommunication, dutyPercent: 5) }

    /// Steady −12 V. Convention: the PWM stays enabled with duty 0, because a disabled sysfs
    /// PWM leaves the pin at a level that differs between SoCs, while duty 0 always drives
    /// the inactive level; the simulator maps both to −12 V.
    public func setStateF() throws { try apply(.stateF, dutyPercent: 0) }

    /// Nanoseconds of high time for `duty` percent of the configured period.
    public func dutyNanoseconds(forDutyPercent duty: Double) -> UInt64 {
        let ns = (Double(config.pwmPeriodNanoseconds) * duty / 100).rounded()
        return min(config.pwmPeriodNanoseconds, UInt64(max(0, ns)))
    }

    private func apply(_ output: PilotOutput, dutyPercent: Double) throws {
        let dutyNs = dutyNanoseconds(forDutyPercent: dutyPercent)
        try state.locked { s in
            do {
                // Polarity and enable are written once: each write is a sysfs access or a
                // simulator round trip, and disabling even briefly would show the vehicle −12 V.
                if !s.pwmPrepared { try pwm.setPolarity(config.pwmPolarity) }
                try pwm.configure(periodNanoseconds: config.pwmPeriodNanoseconds, dutyNanoseconds: dutyNs)
                if !s.pwmPrepared { try pwm.setEnabled(true) }
                s.pwmPrepared = true
            } catch {
                // The channel is in an unknown state: set everything again next time.
                s.pwmPrepared = false
                throw error
            }
            s.output = output
        }
    }

    // MARK: Sense

    /// The debounced state (nil until the first `debounceSamples` samples agree).
    public var currentState: CPState? { state.locked { $0.stable?.state } }
    /// Whether the debounced state is F because of a failed diode check.
    public var diodeFault: Bool { state.locked { $0.stable?.diodeFault ?? false } }
    /// The calibrated CP voltages of the last successful sample.
    public var lastVolts: (high: Double, low: Double?)? {
        state.locked { s in s.lastHigh.map { ($0, s.lastLow) } }
    }

    /// The last samples disagree with the debounced state: more samples are needed (soon) to
    /// confirm or drop the change.
    public var isSettling: Bool { state.locked { $0.candidate != $0.stable } }

    /// Reads the CP levels once and returns a state change when `debounceSamples` consecutive
    /// samples agree on a state other than the current one. A failed ADC read throws and
    /// leaves the debounce state untouched.
    public func sample(at now: MonotonicInstant) throws -> PilotStateChange? {
        let high = config.highCalibration.apply(try highLevel.readVolts())
        let low = try lowLevel.map { config.lowCalibration.apply(try $0.readVolts()) }
        return state.locked { s in
            s.lastHigh = high
            s.lastLow = low
            let raw = config.bands.classify(high, previous: s.lastRaw)
            s.lastRaw = raw
            var observation = Observation(state: raw, diodeFault: false)
            if config.diodeCheck, let low, raw.vehicleConnected, s.output?.oscillates == true,
               !(low <= config.diodeMaxLowVolts) {
                observation = Observation(state: .f, diodeFault: true)
            }
            if observation == s.candidate {
                s.candidateCount += 1
            } else {
                s.candidate = observation
                s.candidateCount = 1
                s.candidateSince = now
            }
            guard s.candidateCount >= config.debounceSamples, observation != s.stable else { return nil }
            let change = PilotStateChange(from: s.stable?.state, to: observation.state,
                                          diodeFault: observation.diodeFault, at: now,
                                          firstSeenAt: s.candidateSince, highVolts: high, lowVolts: low)
            s.stable = observation
            return change
        }
    }
}
