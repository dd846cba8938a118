import Drivers

/// The connector status both OCPP versions report (1.6 `ChargePointStatus`; the 2.0.1 adapter
/// folds Preparing/Charging/Suspended*/Finishing into `Occupied`).
public enum ConnectorStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case available = "Available"
    case preparing = "Preparing"
    case charging = "Charging"
    case suspendedEV = "SuspendedEV"
    case suspendedEVSE = "SuspendedEVSE"
    case finishing = "Finishing"
    case reserved = "Reserved"
    case unavailable = "Unavailable"
    case faulted = "Faulted"
}

/// What is wrong, in the terms the protocols and the display need (1.6 `ChargePointErrorCode`
/// plus the kinds 1.6 lumps into `OtherError`, which the adapter maps with a vendor code).
public enum ConnectorErrorKind: String, Hashable, Sendable, Codable, CaseIterable {
    case groundFailure
    case powerSwitchFailure
    case meterFailure
    case lockFailure
    case readerFailure
    case overCurrent
    case overTemperature
    case emergencyStop
    /// Control pilot shorted (state E) or an unexpected state F.
    case pilotFault
    /// The vehicle's pilot diode is missing (no negative half-wave).
    case diodeFault
    case internalError
}

/// One concrete fault of a connector. Several may be active at once; each has its own rule
/// for clearing (see `ConnectorFault.clearing`).
public enum ConnectorFault: Hashable, Sendable, CustomStringConvertible {
    /// A fault input of the board (RCD, 6 mA DC monitor, emergency stop, over-temperature).
    case input(FaultKind)
    /// The contactor driver saw its feedback disagree with the command.
    case contactor(ContactorFaultKind)
    /// The cable lock did not reach or hold its position.
    case lock(CableLockFault)
    /// Pilot read E (short to PE) or F while the EVSE was not driving F.
    case pilot
    case diode
    /// The EV drew clearly more than offered for longer than the grace period.
    case overCurrent
    case meter
    case reader
    /// The station cannot write its journal (disk full, read-only, damaged): no energy flows
    /// that could not be billed. Raised and cleared by the station for every connector.
    case storage

    public var errorKind: ConnectorErrorKind {
        switch self {
        case .input(.rcd), .input(.dcResidual): return .groundFailure
        case .input(.emergencyStop): return .emergencyStop
        case .input(.overTemperature): return .overTemperature
        case .contactor: return .powerSwitchFailure
        case .lock: return .lockFailure
        case .pilot: return .pilotFault
        case .diode: return .diodeFault
        case .overCurrent: return .overCurrent
        case .meter: return .meterFailure
        case .reader: return .readerFailure
        case .storage: return .internalError
        }
    }

    /// A reader failure does not stop energy (the connector can still be started remotely or
    /// finish its session); every other fault keeps the contactor open while active.
    public var blocksEnergy: Bool { self != .reader }

    /// True for the residual-current faults that need a passing self-test to clear on boards
    /// with an RCD test output.
    public var isResidualCurrent: Bool { self == .input(.rcd) || self == .input(.dcResidual) }

    public enum Clearing: Hashable, Sendable {
        /// Clears when its source says so (`faultCleared`). `clearFault` clears only a lock
        /// fault this way (a person re-seated the plug); the others stay while their source
        /// reports them.
        case whenSourceClears
        /// Clears only by `clearFault` (a person): a welded or failing contactor.
        case byPersonOnly
        /// Clears when the vehicle is unplugged (pilot A) or by `clearFault`.
        case onUnplugOrPerson
    }

    public var clearing: Clearing {
        switch self {
        case .contactor: return .byPersonOnly
        case .overCurrent, .diode: return .onUnplugOrPerson
        default: return .whenSourceClears
        }
    }

    /// Order of precedence when several faults are active: the first is reported.
    var severity: Int {
        switch self {
        case .contactor(.welded): return 0
        case .input(.emergencyStop): return 1
        case .input(.rcd), .input(.dcResidual): return 2
        case .contactor: return 3
        case .input(.overTemperature): return 4
        case .overCurrent: return 5
        case .pilot: return 6
        case .diode: return 7
        case .lock: return 8
        case .meter: return 9
        case .storage: return 10
        case .reader: return 11
        }
    }

    public var description: String {
        switch self {
        case let .input(k): return "input(\(k.rawValue))"
        case let .contactor(k): return "contactor(\(k.rawValue))"
        case let .lock(k): return "lock(\(k.rawValue))"
        case .pilot: return "pilot"
        case .diode: return "diode"
        case .overCurrent: return "overCurrent"
        case .meter: return "meter"
        case .reader: return "reader"
        case .storage: return "storage"
        }
    }
}
