/// What the hardware says after a restart, read by the station before the connector
/// machine runs.
public struct HardwareSnapshot: Hashable, Sendable {
    public enum ContactorReading: String, Hashable, Sendable {
        case open, closed, welded
        /// No feedback contact on this board: only the command is known (open at boot).
        case unknown
    }
    /// The EV is still connected (pilot B, C or D).
    public var vehiclePlugged: Bool
    public var contactor: ContactorReading
    /// The meter's energy register now, if the meter answered.
    public var meterEnergyWh: Double?
    /// The wall clock now (Unix ms).
    public var unixMs: UInt64

    public init(vehiclePlugged: Bool, contactor: ContactorReading, meterEnergyWh: Double?, unixMs: UInt64) {
        self.vehiclePlugged = vehiclePlugged
        self.contactor = contactor
        self.meterEnergyWh = meterEnergyWh
        self.unixMs = unixMs
    }
}

/// What to do with an open session after a crash or power cut (station configuration).
public enum PowerLossPolicy: String, Hashable, Sendable, Codable {
    /// Resume when the same EV is still plugged, the contactor healthy and the meter readable.
    case resumeIfPlugged
    /// Always end the session with reason PowerLoss.
    case endSession
}

public enum SessionRecoveryDecision: Hashable, Sendable {
    /// Nothing to do (no open session, or it was already ended).
    case nothing
    /// Hand the session to `ConnectorStateMachine.resume(_:at:)`; it will lock, offer and
    /// close again once every condition holds.
    case resume(Session)
    /// The session is ended; execute `commands` (persist first, then the notification).
    case end(Session, commands: [ConnectorCommand])
}

/// The decision taken on start for a session the database holds as open. Pure: the
/// station reads the hardware and the database, then executes the result.
///
/// Never ends a session twice: an already ended session gives `.nothing`, and the returned
/// session is ended exactly once, with meter stop = the register now (or the last reading
/// persisted when the meter does not answer, or went backwards).
public enum SessionRecovery {
    public static func decide(openSession: Session?, hardware: HardwareSnapshot,
                              policy: PowerLossPolicy) -> SessionRecoveryDecision {
        guard let session = openSession, !session.isEnded else { return .nothing }
        let healthy = hardware.contactor != .welded
        // A stop accepted before the restart (a remote stop answered Accepted, a card) is
        // carried out with its own reason, never resumed.
        if session.requestedStop == nil, policy == .resumeIfPlugged, hardware.vehiclePlugged, healthy,
           let register = hardware.meterEnergyWh, register >= session.lastKnownEnergyWh {
            return .resume(session)
        }
        var ended = session
        let registerNow = hardware.meterEnergyWh.map { max($0, 0) } ?? session.lastKnownEnergyWh
        let meterStop = registerNow >= session.lastKnownEnergyWh ? registerNow : session.lastKnownEnergyWh
        let stop = session.requestedStop
        ended.end(reason: stop?.reason ?? .powerLoss, meterStopWh: meterStop, atUnixMs: hardware.unixMs,
                  stopIdToken: stop?.idToken.flatMap { $0.identifies(session.idToken) ? nil : $0 })
        var commands: [ConnectorCommand] = []
        if hardware.contactor == .closed || hardware.contactor == .welded {
            commands.append(.openContactor(.notPermitted))
        }
        commands.append(.persist(.ended(ended)))
        commands.append(.sessionEnded(ended))
        return .end(ended, commands: commands)
    }
}
