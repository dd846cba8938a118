/// The IEC 61851-1 control-pilot states, as seen on the CP high level.
///
/// Shared by the driver (which classifies voltages) and the charging core (which maps them
/// onto its connector state machine). The driver knows nothing of sessions.
public enum CPState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// +12 V: no vehicle connected.
    case a = "A"
    /// +9 V: vehicle connected, not ready to charge.
    case b = "B"
    /// +6 V: vehicle ready, no ventilation needed.
    case c = "C"
    /// +3 V: vehicle ready, ventilation required.
    case d = "D"
    /// ≈0 V: pilot shorted to PE or the EVSE has no supply.
    case e = "E"
    /// −12 V: EVSE not available (set by the EVSE), or a vehicle-side diode fault reported by
    /// the driver (see `PilotStateChange.diodeFault`).
    case f = "F"

    /// Nominal high-level voltage of the state.
    public var nominalVolts: Double {
        switch self {
        case .a: return 12
        case .b: return 9
        case .c: return 6
        case .d: return 3
        case .e: return 0
        case .f: return -12
        }
    }

    /// True for the states in which a vehicle is connected (B, C, D).
    public var vehicleConnected: Bool { self == .b || self == .c || self == .d }

    /// True for the states in which the vehicle asks for energy (C, D).
    public var vehicleRequestsCharge: Bool { self == .c || self == .d }

    public var description: String { rawValue }
}
