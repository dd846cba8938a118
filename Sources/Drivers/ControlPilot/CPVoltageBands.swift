/// Voltage bands of the CP high level, per IEC 61851-1 (Table A.4, EVSE side):
///
/// | state | nominal | band used here |
/// | --- | --- | --- |
/// | A | +12 V | 11 … 13 V (anything above 13 V is also A: the supply cannot exceed it) |
/// | B | +9 V  | 8 … 10 V |
/// | C | +6 V  | 5 … 7 V |
/// | D | +3 V  | 2 … 4 V |
/// | E | 0 V   | −1 … +1 V |
/// | F | −12 V | −13 … −11 V (anything below −13 V is also F) |
///
/// A voltage in a gap between two bands (e.g. 10.5 V between B and A) keeps the state it had
/// if that state borders the gap: that is the hysteresis, as wide as the gap, so a level
/// wandering around a decision point does not chatter. Coming from elsewhere, a gap voltage
/// goes to the nearer band (ties to the lower-voltage state, which is the more cautious one).
public struct CPVoltageBands: Hashable, Sendable {
    public struct Band: Hashable, Sendable {
        public var state: CPState
        public var lower: Double
        public var upper: Double
        public init(state: CPState, lower: Double, upper: Double) {
            self.state = state
            self.lower = lower
            self.upper = upper
        }
    }

    /// Bands from the highest voltage (A) to the lowest (F), not overlapping.
    public private(set) var bands: [Band]

    /// Fails when the bands are not ordered from A down to F without overlap.
    public init(bands: [Band]) throws(ControlPilotError) {
        let order: [CPState] = [.a, .b, .c, .d, .e, .f]
        guard bands.map(\.state) == order else {
            throw .invalidConfiguration("CP voltage bands must list states A, B, C, D, E, F in that order")
        }
        for b in bands where !(b.lower <= b.upper) {
            throw .invalidConfiguration("CP band \(b.state): lower \(b.lower) V is above upper \(b.upper) V")
        }
        for i in 1..<bands.count where !(bands[i].upper < bands[i - 1].lower) {
            throw .invalidConfiguration("CP bands \(bands[i - 1].state) and \(bands[i].state) overlap")
        }
        self.bands = bands
    }

    private init(unchecked bands: [Band]) { self.bands = bands }

    /// The IEC 61851-1 bands of the table above.
    public static let iec61851 = CPVoltageBands(unchecked: [
        Band(state: .a, lower: 11, upper: 13),
        Band(state: .b, lower: 8, upper: 10),
        Band(state: .c, lower: 5, upper: 7),
        Band(state: .d, lower: 2, upper: 4),
        Band(state: .e, lower: -1, upper: 1),
        Band(state: .f, lower: -13, upper: -11),
    ])

    /// Classifies a high-level voltage. `previous` is the state the last sample was classified
    /// as (nil at start); it decides voltages that fall in a gap.
    public func classify(_ volts: Double, previous: CPState?) -> CPState {
        guard volts.isFinite else { return .e }  // NaN from a broken ADC read: treat as no pilot
        if volts >= bands[0].lower { return bands[0].state }
        if let last = bands.last, volts <= last.upper { return last.state }
        for i in 1..<bands.count {
            let upperBand = bands[i - 1], lowerBand = bands[i]
            if volts >= lowerBand.lower && volts <= lowerBand.upper { return lowerBand.state }
            if volts > lowerBand.upper && volts < upperBand.lower {
                if previous == upperBand.state || previous == lowerBand.state, let p = previous { return p }
                let toUpper = upperBand.lower - volts
                let toLower = volts - lowerBand.upper
                return toUpper < toLower ? upperBand.state : lowerBand.state
            }
        }
        return bands[bands.count - 1].state
    }
}
