import Drivers
import HAL

/// A PV inverter's output over a day, compressed in time so a whole day runs in minutes.
///
/// Points are (hour of day, W), hours ascending within 0…24; between points the output is
/// interpolated linearly, before the first and after the last point it is that point's value.
/// The curve starts at `startHour` when it is installed and runs `secondsPerHour` simulated
/// seconds per hour of the day, then stays at the value of hour 24 (night).
public struct PVDayCurve: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var hour: Double
        public var watts: Double
        public init(hour: Double, watts: Double) {
            self.hour = hour
            self.watts = watts
        }
    }

    public var points: [Point]
    public var secondsPerHour: Double
    public var startHour: Double

    public init(points: [Point], secondsPerHour: Double, startHour: Double? = nil) throws(SimulatorError) {
        guard !points.isEmpty else { throw .badRequest("pv curve: at least one point (hour, W) is required") }
        guard points.count <= 200 else { throw .badRequest("pv curve: at most 200 points, got \(points.count)") }
        for (i, p) in points.enumerated() {
            guard p.hour.isFinite, (0...24).contains(p.hour) else { throw .badRequest("pv curve: hour must be within 0…24, got \(p.hour)") }
            guard p.watts.isFinite, (0...Building.maxPVWatts).contains(p.watts) else {
                throw .badRequest("pv curve: W must be within 0…\(Int(Building.maxPVWatts)), got \(p.watts)")
            }
            if i > 0, p.hour <= points[i - 1].hour { throw .badRequest("pv curve: hours must be ascending, \(p.hour) after \(points[i - 1].hour)") }
        }
        guard secondsPerHour.isFinite, (0.1...3600).contains(secondsPerHour) else {
            throw .badRequest("pv curve: seconds_per_hour must be within 0.1…3600, got \(secondsPerHour)")
        }
        let start = startHour ?? points[0].hour
        guard start.isFinite, (0...24).contains(start) else { throw .badRequest("pv curve: start_hour must be within 0…24, got \(start)") }
        self.points = points
        self.secondsPerHour = secondsPerHour
        self.startHour = start
    }

    /// The hour of day `elapsed` after the curve was installed.
    public func hour(after elapsed: EVSEDuration) -> Double {
        min(24, startHour + elapsed.seconds / secondsPerHour)
    }

    public func watts(atHour h: Double) -> Double {
        guard let first = points.first, let last = points.last else { return 0 }
        if h <= first.hour { return first.watts }
        if h >= last.hour { return last.watts }
        for i in 1..<points.count where h <= points[i].hour {
            let a = points[i - 1], b = points[i]
            return a.watts + (b.watts - a.watts) * (h - a.hour) / (b.hour - a.hour)
        }
        return last.watts
    }
}

/// The building behind the grid connection: the house's own loads per phase and a PV inverter,
/// metered together with the chargers by the grid meter at the connection point.
///
/// Sign convention of the grid meter (as real bidirectional meters): power is positive when the
/// building imports from the grid and negative when it exports. Currents are magnitudes per
/// phase, as meters report them; the direction is in the per-phase power.
public struct Building: Sendable, Equatable {
    public static let maxHouseLoadA = 1000.0
    public static let maxPVWatts = 1_000_000.0

    /// What the house draws, A per phase (L1, L2, L3).
    public internal(set) var houseLoadA: [Double] = [0, 0, 0]
    /// The inverter's output while no day curve runs, W (fed symmetrically on three phases).
    public internal(set) var pvSetWatts: Double = 0
    public internal(set) var pvCurve: PVDayCurve?
    public internal(set) var pvCurveStartedAt: MonotonicInstant = .zero
    /// The grid meter's counters, Wh.
    public internal(set) var importWh = 0.0
    public internal(set) var exportWh = 0.0
    /// What the PV produced, Wh (for the day-curve figures).
    public internal(set) var pvProducedWh = 0.0

    public init() {}

    public func pvWatts(at now: MonotonicInstant) -> Double {
        guard let curve = pvCurve else { return pvSetWatts }
        return curve.watts(atHour: curve.hour(after: now - pvCurveStartedAt))
    }

    public func pvHour(at now: MonotonicInstant) -> Double? {
        pvCurve.map { $0.hour(after: now - pvCurveStartedAt) }
    }

    /// Signed current per phase at the connection point: + import, − export.
    public func gridCurrentA(chargersA: [Double], at now: MonotonicInstant, voltage: Double) -> [Double] {
        let pvPerPhase = voltage > 0 ? pvWatts(at: now) / (3 * voltage) : 0
        return (0..<3).map { p in
            houseLoadA[p] + (p < chargersA.count ? chargersA[p] : 0) - pvPerPhase
        }
    }

    mutating func setHouseLoad(_ amps: [Double]) throws(SimulatorError) {
        guard amps.count == 3 else { throw .badRequest("house_load_a must be one number or three (L1, L2, L3), got \(amps.count)") }
        for a in amps where !(a.isFinite && a >= 0 && a <= Building.maxHouseLoadA) {
            throw .badRequest("house_load_a must be within 0…\(Int(Building.maxHouseLoadA)) A per phase, got \(a)")
        }
        houseLoadA = amps
    }

    mutating func setPV(watts: Double) throws(SimulatorError) {
        guard watts.isFinite, (0...Building.maxPVWatts).contains(watts) else {
            throw .badRequest("pv_w must be within 0…\(Int(Building.maxPVWatts)) W, got \(watts)")
        }
        pvSetWatts = watts
        pvCurve = nil
    }

    mutating func setPVCurve(_ curve: PVDayCurve?, at now: MonotonicInstant) {
        pvCurve = curve
        pvCurveStartedAt = now
    }

    /// Integrates the grid meter's counters over `d` ending at `now + d` (the values of `now` held).
    mutating func integrate(chargersA: [Double], from now: MonotonicInstant, over d: EVSEDuration, voltage: Double) {
        let hours = d.seconds / 3600
        let total = gridCurrentA(chargersA: chargersA, at: now, voltage: voltage).reduce(0, +) * voltage
        if total > 0 { importWh += total * hours } else { exportWh += -total * hours }
        pvProducedWh += pvWatts(at: now) * hours
    }

    /// What the grid meter measures, in V, A, W, Wh, Hz.
    public func meterValues(chargersA: [Double], at now: MonotonicInstant, voltage: Double, frequency: Double) -> [Measurand: Double] {
        let signed = gridCurrentA(chargersA: chargersA, at: now, voltage: voltage)
        let p = signed.map { $0 * voltage }
        return [
            .voltageL1: voltage, .voltageL2: voltage, .voltageL3: voltage,
            .currentL1: abs(signed[0]), .currentL2: abs(signed[1]), .currentL3: abs(signed[2]),
            .activePowerL1: p[0], .activePowerL2: p[1], .activePowerL3: p[2],
            .activePowerTotal: p.reduce(0, +),
            .energyImported: importWh, .energyExported: exportWh,
            .frequency: frequency, .powerFactor: 1,
        ]
    }
}
