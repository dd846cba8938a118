/// What the station's display is about, independent of language and display size.
public enum DisplayState: Hashable, Sendable {
    /// Available: waiting for a card.
    case idle
    case reserved
    case authorizing
    case authorizationRejected
    /// Authorized; waiting for the cable.
    case plugInCable
    case charging(powerKilowatts: Double, energyKilowattHours: Double, elapsedSeconds: Int)
    /// Energy paused: by the vehicle (battery full, timer) or by the station (waiting for its share).
    case suspended(byVehicle: Bool, energyKilowattHours: Double, elapsedSeconds: Int)
    case finished(energyKilowattHours: Double, durationSeconds: Int)
    case unavailable
    case faulted(DisplayFault)

    /// The OCPP display-message state this screen belongs to (message state filters).
    public var messageState: DisplayMessageStateFilter {
        switch self {
        case .idle, .reserved, .authorizing, .authorizationRejected, .plugInCable, .finished: return .idle
        case .charging: return .charging
        case .suspended: return .suspended
        case .unavailable: return .unavailable
        case .faulted: return .faulted
        }
    }
}

/// Faults as the person at the charger should read them.
public enum DisplayFault: String, Hashable, Sendable, CaseIterable {
    /// Residual current device tripped / ground failure.
    case groundFailure
    case emergencyStop
    case overTemperature
    case contactorWelded
    case lockFailure
    case meterFailure
    case readerFailure
    /// Control pilot out of range, or the EV's diode missing (state E/F).
    case pilotFault
    case overCurrent
}

public enum DisplayLanguage: String, Hashable, Sendable, CaseIterable {
    case en, de, fr, nl
}
