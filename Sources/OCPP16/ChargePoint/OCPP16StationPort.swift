import ChargingCore

/// What the charge point needs to know about one connector, as the station last saw it.
public struct OCPP16ConnectorSnapshot: Sendable, Hashable {
    public var id: Int
    public var status: ConnectorStatus?
    public var error: ConnectorErrorKind?
    public var vehicleConnected: Bool
    /// The running session, if any.
    public var session: Session?
    /// The meter's latest import register (Wh), power (W) and phase currents (A).
    public var energyWh: Double?
    public var powerW: Double?
    public var currentsA: [Double]

    public init(id: Int, status: ConnectorStatus?, error: ConnectorErrorKind? = nil, vehicleConnected: Bool = false,
                session: Session? = nil, energyWh: Double? = nil, powerW: Double? = nil, currentsA: [Double] = []) {
        self.id = id
        self.status = status
        self.error = error
        self.vehicleConnected = vehicleConnected
        self.session = session
        self.energyWh = energyWh
        self.powerW = powerW
        self.currentsA = currentsA
    }
}

/// A request of the CSMS that the station carries out on its own loop.
public enum OCPP16StationCommand: Sendable, Hashable {
    case remoteStart(connectorId: Int, idToken: IdToken)
    case stopSession(connectorId: Int, reason: StopReason)
    case setAvailability(connectorId: Int, operative: Bool)
    /// The answer to an Authorize the station was waiting for (nil info: no answer, decide offline).
    case authorizationResult(IdToken, AuthorizationInfo?)
    /// What the CSMS said about a token outside an Authorize (a StartTransaction's idTagInfo):
    /// for the authorization cache, nobody waits for it.
    case authorizationLearned(IdToken, AuthorizationInfo)
    case clearAuthorizationCache
    /// Every session is ended; restart the process (hard: as after a power cycle).
    case restart(hard: Bool)
    /// The charging profiles now installed: the station feeds their limit into its power
    /// allocation every step (replaces what it had).
    case chargingProfiles(CompositeScheduleCalculator)
}

/// What happened at the station, in the order it happened.
public enum OCPP16StationEvent: Sendable, Hashable {
    case statusChanged(connectorId: Int, ConnectorStatus, ConnectorErrorKind?, atUnixMs: UInt64)
    case sessionStarted(Session)
    case sessionEnded(Session)
    /// The station needs a backend decision for a token (online authorization).
    case authorizationNeeded(IdToken)
}

/// The station side of the adapter. The adapter never imports the station: the daemon wires
/// one in (its snapshot is refreshed by the station's loop, its commands run on that loop).
public protocol OCPP16StationPort: Sendable {
    /// The connectors, in id order (ids from 1).
    func connectors() -> [OCPP16ConnectorSnapshot]
    /// Queues a command for the station's loop.
    func perform(_ command: OCPP16StationCommand)
    /// Reserves a connector and returns the core's answer (nil: no such connector).
    func reserve(_ request: OCPP16ReservationRequest) async -> ReservationAnswer?
    /// Cancels a reservation; false when no connector holds it.
    func cancelReservation(id: Int) async -> Bool
    /// Stops the session `sessionId` on the connector, on the station's loop. True once the core
    /// took the stop and it is on disk (a restart carries it out); false when that session is
    /// not running there.
    func stopSession(connectorId: Int, sessionId: String, reason: StopReason) async -> Bool
    /// Releases the connector's cable lock (ending a running session first) and answers once
    /// the lock's feedback says where it is, or it gave up.
    func unlock(connectorId: Int) async -> UnlockOutcome
}

/// Where an UnlockConnector ended.
public enum UnlockOutcome: Sendable, Hashable {
    /// The feedback reads unlocked.
    case unlocked
    /// The lock did not open (jammed, no feedback in time).
    case unlockFailed
    /// No such connector, or it has no lock (a tethered cable).
    case notSupported
}

/// A ReserveNow as the station sees it.
public struct OCPP16ReservationRequest: Sendable, Hashable {
    public var connectorId: Int
    public var reservationId: Int
    public var idToken: IdToken
    public var parentIdToken: IdToken?
    public var expiresAtUnixMs: UInt64

    public init(connectorId: Int, reservationId: Int, idToken: IdToken, parentIdToken: IdToken?, expiresAtUnixMs: UInt64) {
        self.connectorId = connectorId
        self.reservationId = reservationId
        self.idToken = idToken
        self.parentIdToken = parentIdToken
        self.expiresAtUnixMs = expiresAtUnixMs
    }
}

/// Stations without reservations refuse them; stations without cable locks have nothing to unlock.
extension OCPP16StationPort {
    public func reserve(_ request: OCPP16ReservationRequest) async -> ReservationAnswer? { .rejected }
    public func cancelReservation(id: Int) async -> Bool { false }
    public func stopSession(connectorId: Int, sessionId: String, reason: StopReason) async -> Bool {
        perform(.stopSession(connectorId: connectorId, reason: reason))
        return true
    }
    public func unlock(connectorId: Int) async -> UnlockOutcome { .notSupported }
}

extension OCPP16StationPort {
    func connector(_ id: Int) -> OCPP16ConnectorSnapshot? { connectors().first { $0.id == id } }
}
