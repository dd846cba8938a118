import HAL

/// Where a connector learns the current its cable can carry.
public enum CableRating: Hashable, Sendable {
    /// A socket: the plug's PP resistor (Rc) is measured through a pull-up.
    case measured(ProximityCircuit)
    /// A fixed (tethered) cable: the board file states its rating, no PP is read.
    case fixed(amps: Double)
}

/// The PP measuring circuit: Rc to PE, a pull-up resistor to a supply, the ADC across Rc.
/// The simulator uses a 1000 Ω pull-up to 5.0 V.
public struct ProximityCircuit: Hashable, Sendable {
    public var pullUpOhms: Double
    public var supplyVolts: Double
    /// Maps the ADC pin voltage to volts across Rc (divider in front of the ADC).
    public var calibration: ADCCalibration
    public var thresholds: ProximityThresholds

    public init(pullUpOhms: Double = 1000, supplyVolts: Double = 5.0,
                calibration: ADCCalibration = .identity, thresholds: ProximityThresholds = .iec61851) {
        self.pullUpOhms = pullUpOhms
        self.supplyVolts = supplyVolts
        self.calibration = calibration
        self.thresholds = thresholds
    }
}

/// Decision thresholds from Rc to cable ampacity. The defaults are the interpretation
/// ranges of IEC 61851-1 (Annex B) for the IEC 62196 coding resistors:
///
/// | Rc nominal | range accepted | ampacity |
/// | --- | --- | --- |
/// | — | below 75 Ω | invalid (PP shorted) |
/// | 100 Ω | 75 … 150 Ω | 63 A |
/// | 220 Ω | 150 … 330 Ω | 32 A |
/// | 680 Ω | 330 … 1000 Ω | 20 A |
/// | 1.5 kΩ | 1000 … 2200 Ω | 13 A |
/// | — | above 2200 Ω | no cable |
///
/// A value exactly on a boundary goes to the lower ampacity (the safe side).
public struct ProximityThresholds: Hashable, Sendable {
    /// Below this Rc the PP is shorted: an error, not a cable.
    public var shortBelowOhms: Double
    /// Ascending upper bounds with the ampacity of everything up to them.
    public var ranges: [(upToOhms: Double, amps: Int)] {
        get { storage.map { ($0.upTo, $0.amps) } }
    }
    private var storage: [Entry]
    private struct Entry: Hashable, Sendable { var upTo: Double; var amps: Int }

    /// `ranges`: ascending upper bounds with the ampacity below each; above the last bound
    /// means no cable.
    public init(shortBelowOhms: Double, ranges: [(upToOhms: Double, amps: Int)]) throws(ProximityPilotError) {
        guard !ranges.isEmpty else { throw .invalidConfiguration("PP thresholds need at least one range") }
        var previous = shortBelowOhms
        for r in ranges {
            guard r.upToOhms > previous else {
                throw .invalidConfiguration("PP range bounds must ascend above \(shortBelowOhms) Ω, got \(r.upToOhms) Ω after \(previous) Ω")
            }
            guard r.amps > 0 else { throw .invalidConfiguration("PP ampacity must be positive, got \(r.amps) A") }
            previous = r.upToOhms
        }
        self.shortBelowOhms = shortBelowOhms
        self.storage = ranges.map { Entry(upTo: $0.upToOhms, amps: $0.amps) }
    }

    private init(unchecked short: Double, _ entries: [Entry]) {
        shortBelowOhms = short
        storage = entries
    }

    public static let iec61851 = ProximityThresholds(unchecked: 75, [
        Entry(upTo: 150, amps: 63), Entry(upTo: 330, amps: 32),
        Entry(upTo: 1000, amps: 20), Entry(upTo: 2200, amps: 13),
    ])

    /// Ampacity for a resistance (nil ohms = open circuit).
    public func detect(ohms: Double?) -> CableDetection {
        guard let ohms, ohms.isFinite else { return .noCable }
        if ohms < shortBelowOhms { return .invalid(ohms: ohms) }
        // Boundaries go to the lower ampacity: ranges ascend in ohms, descend in amps, so
        // a value equal to a bound belongs to the next range up.
        for e in storage where ohms < e.upTo { return .cable(amps: e.amps) }
        return .noCable
    }
}

public enum CableDetection: Hashable, Sendable {
    case cable(amps: Int)
    case noCable
    /// A resistance no cable has (PP shorted): treat as a fault.
    case invalid(ohms: Double)
}

public enum ProximityPilotError: Error, Hashable, Sendable, CustomStringConvertible {
    case noCable
    case resistanceOutOfRange(ohms: Double)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .noCable: return "no cable plugged in (PP open)"
        case let .resistanceOutOfRange(ohms): return "PP resistance \(ohms) Ω is no valid cable coding"
        case let .invalidConfiguration(why): return "proximity pilot configuration: \(why)"
        }
    }
}

public struct ProximityPilotConfig: Hashable, Sendable {
    public var rating: CableRating
    public init(rating: CableRating) { self.rating = rating }
}

/// One measurement of the PP line.
public struct ProximityReading: Hashable, Sendable {
    /// Volts across Rc after calibration (nil for a fixed cable).
    public var volts: Double?
    /// Rc; nil when the circuit is open (no cable) or the cable is fixed.
    public var ohms: Double?
    public var detection: CableDetection
}

/// Proximity pilot: tells whether a cable is plugged in and what current it carries.
public final class ProximityPilot: Sendable {
    public let config: ProximityPilotConfig
    private let adc: (any ADCInput)?

    /// A measured rating needs an ADC; a fixed one takes none.
    public init(config: ProximityPilotConfig, adc: (any ADCInput)?) throws(ProximityPilotError) {
        switch config.rating {
        case let .measured(c):
            guard adc != nil else { throw .invalidConfiguration("a measured PP needs an ADC channel") }
            guard c.pullUpOhms > 0, c.supplyVolts > 0 else {
                throw .invalidConfiguration("PP pull-up (\(c.pullUpOhms) Ω) and supply (\(c.supplyVolts) V) must be positive")
            }
        case let .fixed(amps):
            guard amps.isFinite, amps >= 6, amps <= 80 else {
                throw .invalidConfiguration("fixed cable rating must be within 6…80 A, got \(amps)")
            }
        }
        self.config = config
        self.adc = adc
    }

    /// Rc from the voltage across it: V = Vs·R/(R+Rp) ⇒ R = Rp·V/(Vs−V). Nil when V reaches
    /// the supply (open circuit).
    public static func resistance(volts: Double, pullUpOhms: Double, supplyVolts: Double) -> Double? {
        guard volts.isFinite else { return nil }
        let v = max(0, volts)
        // Within 1 mV of the supply the divider says "infinite"; avoid dividing by ~0.
        guard v < supplyVolts - 0.001 else { return nil }
        return pullUpOhms * v / (supplyVolts - v)
    }

    /// Reads the PP once (a fixed cable reads nothing).
    public func read() throws -> ProximityReading {
        switch config.rating {
        case let .fixed(amps):
            return ProximityReading(volts: nil, ohms: nil, detection: .cable(amps: Int(amps.rounded(.down))))
        case let .measured(c):
            guard let adc else { return ProximityReading(volts: nil, ohms: nil, detection: .noCable) }
            let volts = c.calibration.apply(try adc.readVolts())
            let ohms = Self.resistance(volts: volts, pullUpOhms: c.pullUpOhms, supplyVolts: c.supplyVolts)
            return ProximityReading(volts: volts, ohms: ohms, detection: c.thresholds.detect(ohms: ohms))
        }
    }

    /// The cable's ampacity in amps, or an error naming why there is none.
    public func ampacity() throws -> Int {
        let r = try read()
        switch r.detection {
        case let .cable(amps): return amps
        case .noCable: throw ProximityPilotError.noCable
        case let .invalid(ohms): throw ProximityPilotError.resistanceOutOfRange(ohms: ohms)
        }
    }
}
