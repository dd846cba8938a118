/// IEC 61851-1 control pilot physics as the simulator needs it.
public enum PilotState: String, Sendable, CaseIterable {
    case A, B, C, D, E, F

    /// The positive CP level the EVSE's 12 V source is pulled down to by the EV's resistors
    /// (2.74 kΩ → 9 V, + 1.3 kΩ → 6 V, + 270 Ω → 3 V), in millivolts.
    public var highMillivolts: Int {
        switch self {
        case .A: return 12000
        case .B: return 9000
        case .C: return 6000
        case .D: return 3000
        case .E: return 0
        case .F: return -12000
        }
    }

    /// The state a CP high level stands for (nearest nominal level).
    public static func from(highMillivolts mv: Int) -> PilotState {
        allCases.min { abs($0.highMillivolts - mv) < abs($1.highMillivolts - mv) } ?? .F
    }
}

/// The states an EV can put on the pilot with its resistors.
public enum EVPilotRequest: String, Sendable, CaseIterable {
    case B, C, D
}

/// What the EVSE's PWM channel drives onto the pilot.
public struct PilotPWM: Sendable, Equatable {
    public var periodNanoseconds: UInt64 = 1_000_000
    public var dutyNanoseconds: UInt64 = 1_000_000
    public var inversed = false
    public var enabled = true
    /// False until the firmware has set the channel: the CP stage then idles at +12 V,
    /// as the boards' pull-up does before the MCU drives it.
    public var configured = false

    public init() {}

    /// Fraction of each period the CP sits at the positive level (0…1); 0 while disabled.
    public var highFraction: Double {
        guard enabled, periodNanoseconds > 0 else { return 0 }
        let f = Double(min(dutyNanoseconds, periodNanoseconds)) / Double(periodNanoseconds)
        return inversed ? 1 - f : f
    }

    public enum Output: Equatable, Sendable {
        case steadyPositive
        case steadyNegative
        case oscillating(dutyPercent: Double)
    }

    public var output: Output {
        let f = highFraction
        if f <= 0 { return .steadyNegative }
        if f >= 1 { return .steadyPositive }
        return .oscillating(dutyPercent: f * 100)
    }

    /// The current the duty offers (IEC 61851-1 table A.7), 0 when it offers none.
    public var offeredCurrentA: Double {
        guard case let .oscillating(d) = output else { return 0 }
        return PilotPWM.offeredCurrent(dutyPercent: d)
    }

    public static func offeredCurrent(dutyPercent d: Double) -> Double {
        if d < 8 { return 0 }              // 5 %: digital communication only; below: invalid
        if d < 10 { return 6 }
        if d <= 85 { return d * 0.6 }
        if d <= 96 { return min(80, (d - 64) * 2.5) }
        return 0
    }
}

/// A Type 2 cable's PP resistor per its rating (IEC 61851-1 table B.2).
public enum CableCoding {
    public static let resistanceOhms: [Int: Double] = [13: 1500, 20: 680, 32: 220, 63: 100]

    /// The PP voltage the charger measures over the resistor with its 1 kΩ pull-up to 5 V.
    public static func ppMillivolts(cableA: Double?) -> Int {
        guard let a = cableA, let r = resistanceOhms[Int(a)] else { return 5000 }
        return Int((5000 * r / (r + 1000)).rounded())
    }
}
