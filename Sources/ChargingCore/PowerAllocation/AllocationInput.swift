import HAL

/// One of the three line conductors of the grid connection.
public enum ElectricalPhase: Int, CaseIterable, Hashable, Sendable, Comparable {
    case l1 = 0, l2 = 1, l3 = 2
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// How the station is connected to the grid.
public enum GridConnection: Hashable, Sendable {
    /// One line conductor: every connector and every EV loads that one phase.
    case singlePhase
    /// Three line conductors; connectors are wired to all three.
    case threePhase
}

/// Which grid phases an EV loads through its connector.
///
/// Unknown vehicles are assumed to load all three phases: that assumption can only
/// under-use the grid, never overload one phase.
public enum AllocationPhaseUse: Hashable, Sendable {
    case threePhase
    /// A single-phase EV (or one charging on one phase) loading this grid phase; with phase
    /// rotation in the installation, that is the grid phase the connector's L1 is wired to.
    case singlePhase(ElectricalPhase)

    public var phases: [ElectricalPhase] {
        switch self {
        case .threePhase: return ElectricalPhase.allCases
        case let .singlePhase(p): return [p]
        }
    }

    /// Which phases an EV actually loads, from the meter's per-phase currents (L1, L2, L3).
    /// `nil` when the EV draws nothing yet (nothing can be learned) or the reading is malformed.
    /// Two loaded phases (rare) are reported as three-phase, which is the safe side.
    public static func detect(measuredAmps: [Double], threshold: Double = 1.0) -> AllocationPhaseUse? {
        guard measuredAmps.count == 3 else { return nil }
        let loaded = ElectricalPhase.allCases.filter { measuredAmps[$0.rawValue] >= threshold }
        switch loaded.count {
        case 0: return nil
        case 1: return .singlePhase(loaded[0])
        default: return .threePhase
        }
    }
}

/// The unit of a charging-rate limit: amperes per phase, or watts in total.
public enum ChargingRateUnit: String, Hashable, Sendable, CaseIterable {
    case amps = "A"
    case watts = "W"
}

/// A limit as smart charging expresses it: a value in A (per phase) or W (total) and the
/// number of phases it was meant for. W and A are converted with a nominal phase voltage
/// (230 V), as OCPP 1.6 and 2.0.1 both do.
public struct ChargingLimit: Hashable, Sendable, CustomStringConvertible {
    public static let nominalPhaseVoltage = 230.0

    public var value: Double
    public var unit: ChargingRateUnit
    /// 1...3; OCPP's default when a period omits it is 3.
    public var numberPhases: Int

    public init(value: Double, unit: ChargingRateUnit, numberPhases: Int = 3) {
        self.value = value
        self.unit = unit
        self.numberPhases = numberPhases
    }

    public static func amps(_ a: Double, phases: Int = 3) -> ChargingLimit { .init(value: a, unit: .amps, numberPhases: phases) }
    public static func watts(_ w: Double, phases: Int = 3) -> ChargingLimit { .init(value: w, unit: .watts, numberPhases: phases) }

    private var safePhases: Double { Double(min(3, max(1, numberPhases))) }

    /// The current per phase this limit allows.
    public func ampsPerPhase(nominalVoltage: Double = nominalPhaseVoltage) -> Double {
        switch unit {
        case .amps: return value
        case .watts: return value / (nominalVoltage * safePhases)
        }
    }

    /// The total power this limit allows.
    public func totalWatts(nominalVoltage: Double = nominalPhaseVoltage) -> Double {
        switch unit {
        case .amps: return value * nominalVoltage * safePhases
        case .watts: return value
        }
    }

    /// The same limit expressed in `unit`.
    public func converted(to unit: ChargingRateUnit, nominalVoltage: Double = nominalPhaseVoltage) -> ChargingLimit {
        switch unit {
        case .amps: return .init(value: ampsPerPhase(nominalVoltage: nominalVoltage), unit: .amps, numberPhases: numberPhases)
        case .watts: return .init(value: totalWatts(nominalVoltage: nominalVoltage), unit: .watts, numberPhases: numberPhases)
        }
    }

    public var description: String { "\(value) \(unit.rawValue) (\(numberPhases) ph)" }
}

/// Tunables of the allocator. The defaults suit a public AC charger.
public struct AllocationPolicy: Hashable, Sendable {
    /// IEC 61851-1: below 6 A the pilot cannot signal a current; a session either gets this or nothing.
    public var minimumAmps: Double
    /// A session that has charged this long while others wait for a share gives way to them.
    public var rotationInterval: EVSEDuration
    /// An EV is given time to ramp up before its draw is taken as what it wants.
    public var giveBackGracePeriod: EVSEDuration
    /// An EV drawing this much less than offered keeps only its draw plus `giveBackHeadroomAmps`.
    public var giveBackThresholdAmps: Double
    public var giveBackHeadroomAmps: Double
    /// Allocations are rounded down to this step (the PWM's practical resolution).
    public var resolutionAmps: Double
    public var nominalPhaseVoltage: Double

    public init(minimumAmps: Double = 6, rotationInterval: EVSEDuration = .seconds(Int64(15 * 60)),
                giveBackGracePeriod: EVSEDuration = .seconds(Int64(60)), giveBackThresholdAmps: Double = 3,
                giveBackHeadroomAmps: Double = 2, resolutionAmps: Double = 0.1,
                nominalPhaseVoltage: Double = ChargingLimit.nominalPhaseVoltage) {
        self.minimumAmps = minimumAmps
        self.rotationInterval = rotationInterval
        self.giveBackGracePeriod = giveBackGracePeriod
        self.giveBackThresholdAmps = giveBackThresholdAmps
        self.giveBackHeadroomAmps = giveBackHeadroomAmps
        self.resolutionAmps = resolutionAmps
        self.nominalPhaseVoltage = nominalPhaseVoltage
    }
}

/// What the allocator knows about one connector.
public struct AllocationConnectorInput: Hashable, Sendable {
    public var connectorId: Int
    /// A session that wants energy now (authorized, EV connected, not finished). Inactive
    /// connectors get 0 A and take no share.
    public var wantsEnergy: Bool
    /// The board's rating for this connector (contactor, wiring), A per phase.
    public var boardMaxAmps: Double
    /// The cable's rating from the proximity pilot; `nil` for a tethered cable (board rating applies).
    public var cableMaxAmps: Double?
    /// What the EV said it takes (ISO 15118 or configuration); `nil` when unknown.
    public var evMaxAmps: Double?
    public var phaseUse: AllocationPhaseUse
    /// The meter's currents L1, L2, L3 in A; `nil` when no fresh reading exists.
    public var measuredAmps: [Double]?
    /// Smart-charging limit for this connector (composite schedule now), if any.
    public var externalLimit: ChargingLimit?
    /// What the previous allocation gave this connector (A per phase); feeds give-back.
    public var previousAllocationAmps: Double
    /// Feed back `ConnectorAllocation.chargingSince` / `.suspendedSince` from the previous result.
    public var chargingSince: MonotonicInstant?
    public var suspendedSince: MonotonicInstant?
    /// Feed back `ConnectorAllocation.chargedTimeBeforeStint`: how long this session had energy
    /// before its current stint. Among sessions that waited equally long, the one that has had
    /// less goes first.
    public var chargedTimeBeforeStint: EVSEDuration

    public init(connectorId: Int, wantsEnergy: Bool, boardMaxAmps: Double, cableMaxAmps: Double? = nil,
                evMaxAmps: Double? = nil, phaseUse: AllocationPhaseUse = .threePhase,
                measuredAmps: [Double]? = nil, externalLimit: ChargingLimit? = nil,
                previousAllocationAmps: Double = 0, chargingSince: MonotonicInstant? = nil,
                suspendedSince: MonotonicInstant? = nil, chargedTimeBeforeStint: EVSEDuration = .zero) {
        self.connectorId = connectorId
        self.wantsEnergy = wantsEnergy
        self.boardMaxAmps = boardMaxAmps
        self.cableMaxAmps = cableMaxAmps
        self.evMaxAmps = evMaxAmps
        self.phaseUse = phaseUse
        self.measuredAmps = measuredAmps
        self.externalLimit = externalLimit
        self.previousAllocationAmps = previousAllocationAmps
        self.chargingSince = chargingSince
        self.suspendedSince = suspendedSince
        self.chargedTimeBeforeStint = chargedTimeBeforeStint
    }

    /// Feeds the rotation state of a previous result back into this input.
    public mutating func carryOver(from previous: ConnectorAllocation) {
        previousAllocationAmps = previous.amps
        chargingSince = previous.chargingSince
        suspendedSince = previous.suspendedSince
        chargedTimeBeforeStint = previous.chargedTimeBeforeStint
    }
}

/// Everything one allocation round looks at. Built by the caller every time something changes
/// (EV plugged, meter sample, schedule period boundary, rotation timer).
public struct AllocationInput: Hashable, Sendable {
    public var now: MonotonicInstant
    public var grid: GridConnection
    /// The grid connection's fuse rating, A per phase.
    public var gridLimitAmps: Double
    /// Station-wide smart-charging limit (composite schedule of connector 0 now), if any.
    public var stationExternalLimit: ChargingLimit?
    /// What the grid meter leaves for the chargers, A per phase (L1, L2, L3): the fuse minus
    /// the margin minus the rest of the building's load (`GridEnergyManager`). Applied below
    /// `gridLimitAmps`; nil without a grid meter.
    public var gridCapacityAmps: [Double]?
    /// Total power the chargers may draw together, W (the PV surplus in `pv` and `min+pv`
    /// modes). Accounted on the phases each session really loads, so one phase at 1.4 kW fits
    /// where three phases at 4.1 kW do not.
    public var stationPowerLimitW: Double?
    /// A cap on every connector, A per phase (the grid meter's fallback current).
    public var connectorCapAmps: Double?
    public var connectors: [AllocationConnectorInput]
    public var policy: AllocationPolicy

    public init(now: MonotonicInstant, grid: GridConnection = .threePhase, gridLimitAmps: Double,
                stationExternalLimit: ChargingLimit? = nil, gridCapacityAmps: [Double]? = nil,
                stationPowerLimitW: Double? = nil, connectorCapAmps: Double? = nil,
                connectors: [AllocationConnectorInput], policy: AllocationPolicy = AllocationPolicy()) {
        self.now = now
        self.grid = grid
        self.gridLimitAmps = gridLimitAmps
        self.stationExternalLimit = stationExternalLimit
        self.gridCapacityAmps = gridCapacityAmps
        self.stationPowerLimitW = stationPowerLimitW
        self.connectorCapAmps = connectorCapAmps
        self.connectors = connectors
        self.policy = policy
    }
}

/// Why a connector got what it got.
public enum AllocationDecision: Hashable, Sendable {
    /// No session wants energy here.
    case idle
    /// Charging at a share ≥ the minimum.
    case charging
    /// Its own limits (connector, cable, EV, external schedule) are below the minimum: 0 A.
    case limitedBelowMinimum
    /// The station cannot give every session the minimum; this one waits its turn (PWM off,
    /// status SuspendedEVSE) and is rotated back in.
    case suspendedForSharing
}

public struct ConnectorAllocation: Hashable, Sendable {
    public var connectorId: Int
    /// Current limit to signal, A per phase; 0 means "no energy" (PWM off / SuspendedEVSE).
    public var amps: Double
    public var decision: AllocationDecision
    /// The connector's own cap from board, cable, EV and external limits, before sharing.
    public var ownLimitAmps: Double
    /// The grid phases this allocation is accounted on.
    public var phaseUse: AllocationPhaseUse
    /// Pass these back in the next `AllocationConnectorInput`: they drive rotation.
    public var chargingSince: MonotonicInstant?
    public var suspendedSince: MonotonicInstant?
    public var chargedTimeBeforeStint: EVSEDuration
}

public struct AllocationResult: Hashable, Sendable {
    public var connectors: [ConnectorAllocation]
    /// What the station may draw per phase (grid and station-wide external limit), L1...L3.
    public var stationLimitAmps: [Double]
    /// Sum of allocations per phase, L1...L3.
    public var allocatedAmps: [Double]

    public func allocation(for connectorId: Int) -> ConnectorAllocation? {
        connectors.first { $0.connectorId == connectorId }
    }
}
