import HAL

/// How the station uses the grid connection (station file `energy.mode`, `evsectl energy mode`,
/// OCPP DataTransfer `org.swiftevse` / `SetChargingMode`).
public enum ChargingMode: String, CaseIterable, Hashable, Sendable {
    /// Everything the fuse allows after the rest of the building's load.
    case fast
    /// Only the PV surplus that would otherwise be exported.
    case pv
    /// The 6 A minimum at all times, plus the PV surplus.
    case minPlusPV = "min+pv"
}

/// One reading of the grid meter at the connection point.
public struct GridMeterReading: Hashable, Sendable {
    /// Signed current per phase (L1, L2, L3), A: + import from the grid, − export.
    public var currentsA: [Double]
    /// Signed total active power, W: + import, − export.
    public var powerW: Double
    public var at: MonotonicInstant

    public init(currentsA: [Double], powerW: Double, at: MonotonicInstant) {
        self.currentsA = currentsA
        self.powerW = powerW
        self.at = at
    }

    /// From a meter's magnitudes and signed powers: meters report current as a magnitude and
    /// the direction in the power of the same phase. Without per-phase power, the sign of the
    /// total power is used for every phase.
    public static func fromMeter(currentsA: [Double], phasePowersW: [Double]?, totalPowerW: Double?,
                                 at: MonotonicInstant) -> GridMeterReading {
        var signed = currentsA
        for p in signed.indices {
            let direction: Double
            if let powers = phasePowersW, p < powers.count { direction = powers[p] } else { direction = totalPowerW ?? 1 }
            if direction < 0 { signed[p] = -abs(signed[p]) } else { signed[p] = abs(signed[p]) }
        }
        let total = totalPowerW ?? phasePowersW?.reduce(0, +) ?? .nan
        return GridMeterReading(currentsA: signed, powerW: total, at: at)
    }
}

/// Why the grid meter's readings are not used.
public enum GridMeterProblem: Hashable, Sendable, CustomStringConvertible {
    /// No reading yet since the start.
    case noReading
    /// The meter does not answer.
    case offline
    /// The last reading is older than `GridPolicy.maxReadingAge`.
    case stale
    /// The reading (or the fuse it is checked against) cannot be true.
    case implausible(String)

    public var description: String {
        switch self {
        case .noReading: return "no reading yet"
        case .offline: return "offline"
        case .stale: return "no fresh reading"
        case let .implausible(why): return "implausible reading: \(why)"
        }
    }
}

/// The tunables of energy management; the defaults suit a home or workplace charger.
public struct GridPolicy: Hashable, Sendable {
    /// The grid connection's fuse, A per phase.
    public var fuseAmps: Double
    /// Kept free below the fuse on every phase.
    public var marginAmps: Double
    /// A per connector while the grid meter cannot be trusted.
    public var fallbackAmps: Double
    /// A reading older than this counts as offline (three polls of 1 s).
    public var maxReadingAge: EVSEDuration
    /// A charger's meter reading and the grid meter's belong to the same moment when they were
    /// taken at most this far apart (the meters of one poll round; half the grid poll period).
    public var pairingTolerance: EVSEDuration
    /// PV: charging starts once the surplus reaches the minimum charging power plus this, W…
    public var pvStartMarginW: Double
    /// …for this long without a break,
    public var pvStartDelay: EVSEDuration
    /// and stops once the surplus stays below the minimum power minus this (W, the grid import
    /// accepted while a cloud passes)…
    public var pvStopAllowanceW: Double
    /// …for this long.
    public var pvStopDelay: EVSEDuration
    /// Once started, charging runs at least this long; once stopped, it stays off this long.
    public var pvMinimumOnTime: EVSEDuration
    public var pvMinimumOffTime: EVSEDuration
    public var nominalPhaseVoltage: Double

    public init(fuseAmps: Double, marginAmps: Double = 2, fallbackAmps: Double = 6,
                maxReadingAge: EVSEDuration = .seconds(Int64(3)),
                pairingTolerance: EVSEDuration = .milliseconds(500),
                pvStartMarginW: Double = 0, pvStartDelay: EVSEDuration = .seconds(Int64(30)),
                pvStopAllowanceW: Double = 500, pvStopDelay: EVSEDuration = .seconds(Int64(60)),
                pvMinimumOnTime: EVSEDuration = .seconds(Int64(300)),
                pvMinimumOffTime: EVSEDuration = .seconds(Int64(300)),
                nominalPhaseVoltage: Double = ChargingLimit.nominalPhaseVoltage) {
        self.fuseAmps = fuseAmps
        self.marginAmps = marginAmps
        self.fallbackAmps = fallbackAmps
        self.maxReadingAge = maxReadingAge
        self.pairingTolerance = pairingTolerance
        self.pvStartMarginW = pvStartMarginW
        self.pvStartDelay = pvStartDelay
        self.pvStopAllowanceW = pvStopAllowanceW
        self.pvStopDelay = pvStopDelay
        self.pvMinimumOnTime = pvMinimumOnTime
        self.pvMinimumOffTime = pvMinimumOffTime
        self.nominalPhaseVoltage = nominalPhaseVoltage
    }
}

/// The meter reading of one connector whose contactor is closed: what it draws, and when that
/// was measured (energy management pairs it with the grid meter reading of the same moment).
public struct ChargerReading: Hashable, Sendable {
    /// Current per phase (L1, L2, L3), A.
    public var currentsA: [Double]
    public var readAt: MonotonicInstant

    public init(currentsA: [Double], readAt: MonotonicInstant) {
        self.currentsA = currentsA
        self.readAt = readAt
    }
}

/// What energy management allows the chargers this round; goes into `AllocationInput`.
public struct GridLimits: Hashable, Sendable {
    /// A per phase left for the chargers under the fuse (`AllocationInput.gridCapacityAmps`).
    public var phaseCapacityAmps: [Double]
    /// W the chargers may draw together (PV modes), nil: no power budget.
    public var powerLimitW: Double?
    /// The fallback cap per connector while the grid meter cannot be trusted.
    public var connectorCapAmps: Double?
    /// Set while the fallback applies.
    public var problem: GridMeterProblem?
    /// The building's own load per phase (grid − chargers), A; nil without a usable reading.
    public var houseLoadA: [Double]?
    /// The PV surplus the chargers could use (their draw plus the export), W.
    public var surplusW: Double?
    /// PV modes: whether the surplus gate lets charging run.
    public var pvCharging: Bool
}

/// Energy management against a grid meter: the fuse on every phase, the charging modes, and
/// the fallback when the meter cannot be trusted. A pure state machine (the PV start/stop gate
/// remembers when it last changed), stepped by the station's loop with the monotonic clock.
///
/// Rules:
/// - House load per phase = grid meter current − our chargers' measured current; the chargers
///   may use fuse − margin − house load per phase (never more than fuse − margin, whatever PV
///   exports: a cloud takes it away faster than an EV follows).
/// - The house load is only worked out from readings of the same moment: the grid meter's and
///   every charging connector's, taken within `pairingTolerance` of each other (the meters of
///   one poll round). While a round's readings are still arriving, the last such estimate
///   stands. Mixing a charger reading from after an EV changed its draw with a grid reading from
///   before it gets the house load wrong by exactly that change: too low after an increase
///   (more than the fuse offered: two EVs admitted where there is room for one) and too high
///   after it (the EV that just started suspended again), and the two EVs take turns every
///   second. A charger reading older than `maxReadingAge` (a silent meter) counts as 0 A: the
///   house load comes out higher, the safe side. Without any paired estimate younger than
///   `maxReadingAge`, the latest readings are mixed as they are.
/// - `pv`: the chargers may draw the surplus = their own draw − the grid power (export is
///   negative). Charging starts when the surplus has reached the minimum power for
///   `pvStartDelay` and the gate has been off for `pvMinimumOffTime`; it stops when the surplus
///   has stayed below the minimum power − `pvStopAllowanceW` for `pvStopDelay` and the gate has
///   been on for `pvMinimumOnTime`. In between it charges at the surplus, at least the minimum.
/// - `min+pv`: always the minimum, more when the surplus allows.
/// - A reading that is missing, older than `maxReadingAge`, from an offline meter, or not
///   plausible (not finite, a current above 2 × the fuse, a fuse that is not a positive number)
///   puts every connector on `fallbackAmps`. Never unlimited.
public struct GridEnergyManager: Hashable, Sendable {
    public var policy: GridPolicy
    public var mode: ChargingMode
    public private(set) var pvGateOn = false
    public private(set) var pvGateChangedAt: MonotonicInstant?
    /// Since when the surplus has been above the start (or below the stop) threshold.
    private var pvConditionSince: MonotonicInstant?
    /// The surplus in use, and the time of the first reading that said it dropped.
    private var pvSurplusW: Double?
    private var pvDropSeenAt: MonotonicInstant?
    /// The last house load worked out from readings of one moment, with the surplus of that moment.
    private var pairedEstimate: PairedEstimate?

    private struct PairedEstimate: Hashable, Sendable {
        var houseA: [Double]
        var surplusW: Double
        var gridReadAt: MonotonicInstant
    }

    public init(policy: GridPolicy, mode: ChargingMode = .fast) {
        self.policy = policy
        self.mode = mode
    }

    /// Changes the mode; the PV gate starts over (off, no minimum off time to wait).
    public mutating func setMode(_ newMode: ChargingMode) {
        guard newMode != mode else { return }
        mode = newMode
        pvGateOn = false
        pvGateChangedAt = nil
        pvConditionSince = nil
        pvSurplusW = nil
        pvDropSeenAt = nil
    }

    /// Checks a reading; nil when it can be used.
    public func problem(with reading: GridMeterReading?, meterOffline: Bool, now: MonotonicInstant) -> GridMeterProblem? {
        let fuse = policy.fuseAmps
        guard fuse.isFinite, fuse > 0 else { return .implausible("fuse of \(fuse) A") }
        if meterOffline { return .offline }
        guard let reading else { return .noReading }
        if now - reading.at > policy.maxReadingAge { return .stale }
        guard reading.currentsA.count == 3 else { return .implausible("\(reading.currentsA.count) phase currents") }
        for (p, a) in reading.currentsA.enumerated() {
            guard a.isFinite else { return .implausible("L\(p + 1) current is not a number") }
            if abs(a) > 2 * fuse { return .implausible("L\(p + 1) current \(a) A above 2 × the \(fuse) A fuse") }
        }
        guard reading.powerW.isFinite else { return .implausible("total power is not a number") }
        return nil
    }

    /// This round's limits, with our chargers' draw measured at the same moment as `reading`
    /// (`chargersA`, per phase L1…L3). `minimumPowerW`: the least power one session can charge
    /// with (6 A on the phases it would use), which the PV gate compares the surplus with.
    public mutating func limits(reading: GridMeterReading?, meterOffline: Bool, chargersA: [Double],
                                minimumPowerW: Double, now: MonotonicInstant) -> GridLimits {
        let paired = reading.map { [ChargerReading(currentsA: chargersA, readAt: $0.at)] } ?? []
        return limits(reading: reading, meterOffline: meterOffline, chargers: paired, minimumPowerW: minimumPowerW, now: now)
    }

    /// This round's limits. `chargers`: the latest meter reading of every connector whose
    /// contactor is closed, each with its time (paired with the grid reading, see the rules).
    public mutating func limits(reading: GridMeterReading?, meterOffline: Bool, chargers: [ChargerReading],
                                minimumPowerW: Double, now: MonotonicInstant) -> GridLimits {
        let fuse = policy.fuseAmps.isFinite ? max(0, policy.fuseAmps) : 0
        let margin = policy.marginAmps.isFinite ? max(0, policy.marginAmps) : 0
        let ceiling = max(0, fuse - margin)
        let problem = problem(with: reading, meterOffline: meterOffline, now: now)
        guard problem == nil, let reading else {
            // The building's load is unknown: the fallback per connector, under the fuse in total.
            pvConditionSince = nil
            return GridLimits(phaseCapacityAmps: [ceiling, ceiling, ceiling], powerLimitW: nil,
                              connectorCapAmps: policy.fallbackAmps.isFinite ? max(0, policy.fallbackAmps) : 0,
                              problem: problem ?? .noReading, houseLoadA: nil, surplusW: nil, pvCharging: false)
        }
        let (house, rawSurplus) = houseLoad(reading: reading, chargers: chargers, now: now)
        // PV export shows as a negative house load; it is not counted on (clouds are faster).
        let capacity = house.map { max(0, min(ceiling, ceiling - $0)) }
        let surplus = confirmedSurplus(rawSurplus, readingAt: reading.at)
        var limits = GridLimits(phaseCapacityAmps: capacity, powerLimitW: nil, connectorCapAmps: nil, problem: nil,
                                houseLoadA: house, surplusW: surplus, pvCharging: false)
        switch mode {
        case .fast:
            pvConditionSince = nil
        case .minPlusPV:
            pvConditionSince = nil
            limits.pvCharging = true
            limits.powerLimitW = max(surplus, minimumPowerW)
        case .pv:
            updatePVGate(surplusW: surplus, minimumPowerW: minimumPowerW, now: now)
            limits.pvCharging = pvGateOn
            limits.powerLimitW = pvGateOn ? max(surplus, minimumPowerW) : 0
        }
        return limits
    }

    /// The house load per phase and the surplus (W) from the readings of one moment (the rules
    /// above). Remembers the estimate when the readings were of one moment.
    private mutating func houseLoad(reading: GridMeterReading, chargers: [ChargerReading],
                                    now: MonotonicInstant) -> (houseA: [Double], surplusW: Double) {
        var ours = [0.0, 0.0, 0.0]
        var allPaired = true
        for c in chargers {
            // A meter that has been silent for longer than a grid reading may be: its draw is unknown,
            // and counting it as 0 A puts it in the house load (the fuse is kept either way).
            if now - c.readAt > policy.maxReadingAge { continue }
            let gap = c.readAt - reading.at
            if abs(gap.microseconds) > policy.pairingTolerance.microseconds { allPaired = false }
            for p in 0..<min(3, c.currentsA.count) where c.currentsA[p].isFinite { ours[p] += max(0, c.currentsA[p]) }
        }
        let voltage = policy.nominalPhaseVoltage
        if allPaired {
            let estimate = PairedEstimate(houseA: (0..<3).map { reading.currentsA[$0] - ours[$0] },
                                          surplusW: ours.reduce(0, +) * voltage - reading.powerW, gridReadAt: reading.at)
            pairedEstimate = estimate
            return (estimate.houseA, estimate.surplusW)
        }
        if let last = pairedEstimate, now - last.gridReadAt <= policy.maxReadingAge {
            // The rest of this round's readings is on its way.
            return (last.houseA, last.surplusW)
        }
        return ((0..<3).map { reading.currentsA[$0] - ours[$0] }, ours.reduce(0, +) * voltage - reading.powerW)
    }

    /// A drop of the surplus counts once a second reading confirms it. The chargers' meters and
    /// the grid meter are read at different moments: right after an increase, the grid meter
    /// may already see the EV's new draw while its own meter still shows the old one, which
    /// looks like a drop of exactly the increase (and would undo it). The fuse is not filtered.
    private mutating func confirmedSurplus(_ surplus: Double, readingAt: MonotonicInstant) -> Double {
        guard let current = pvSurplusW, surplus < current - 50 else {
            pvSurplusW = surplus
            pvDropSeenAt = nil
            return surplus
        }
        if let first = pvDropSeenAt, readingAt > first {
            pvSurplusW = surplus
            pvDropSeenAt = nil
            return surplus
        }
        pvDropSeenAt = pvDropSeenAt ?? readingAt
        return current
    }

    private mutating func updatePVGate(surplusW: Double, minimumPowerW: Double, now: MonotonicInstant) {
        let heldLongEnough: Bool
        if let changed = pvGateChangedAt {
            heldLongEnough = now - changed >= (pvGateOn ? policy.pvMinimumOnTime : policy.pvMinimumOffTime)
        } else {
            heldLongEnough = true
        }
        let wantsChange = pvGateOn ? surplusW < minimumPowerW - policy.pvStopAllowanceW
                                   : surplusW >= minimumPowerW + policy.pvStartMarginW
        guard wantsChange else {
            pvConditionSince = nil
            return
        }
        let since = pvConditionSince ?? now
        pvConditionSince = since
        let delay = pvGateOn ? policy.pvStopDelay : policy.pvStartDelay
        if heldLongEnough, now - since >= delay {
            pvGateOn.toggle()
            pvGateChangedAt = now
            pvConditionSince = nil
        }
    }

    /// When the gate may next change on its own (for the loop's deadline), nil when nothing is pending.
    public var nextPVDecisionAt: MonotonicInstant? {
        guard mode == .pv, let since = pvConditionSince else { return nil }
        var at = since + (pvGateOn ? policy.pvStopDelay : policy.pvStartDelay)
        if let changed = pvGateChangedAt { at = max(at, changed + (pvGateOn ? policy.pvMinimumOnTime : policy.pvMinimumOffTime)) }
        return at
    }
}
