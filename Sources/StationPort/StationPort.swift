import ChargingCore
import HAL

/// The station as a backend adapter sees it, whatever the protocol: one way in, one way out.
///
/// In: `request(_:)` carries everything a backend asks of the station. The request runs on the
/// station's loop, between two steps, and the answer is the core's own decision (a remote start
/// on a reserved connector is accepted or refused by the connector's state machine, not by a
/// snapshot the adapter looked at). `submit(_:)` puts the same requests in the same queue for a
/// caller that needs no answer; requests run in the order they were made.
///
/// Out: `events`, what happened at the station in the order it happened (status changes,
/// sessions, meter samples, authorizations the core needs from the backend).
///
/// The OCPP 1.6 adapter uses only this; the 2.0.1 adapter will use it unchanged. The daemon wires
/// the station's implementation (`LoopStationPort`) in; tests wire a fake.
public protocol StationPort: AnyObject, Sendable {
    func request(_ request: StationRequest) async -> StationAnswer
    func submit(_ request: StationRequest)
    /// The station's events; one consumer (the adapter).
    var events: AsyncStream<StationEvent> { get }
}

/// What a backend asks of the station.
public enum StationRequest: Sendable, Hashable {
    /// The connectors as they are now, in id order → `.connectors`.
    case connectors
    /// A remote start for `idToken` on `connectorId` (nil: the connector the station picks: one
    /// with an EV plugged in and waiting, else the first free one) → `.remoteStart`.
    case remoteStart(connectorId: Int?, idToken: IdToken, parentIdToken: IdToken?)
    /// Would the station take that remote start now? Nothing starts (a backend that first
    /// authorizes the token answers from this, then sends `remoteStart`) → `.remoteStart`.
    case remoteStartCheck(connectorId: Int?, idToken: IdToken, parentIdToken: IdToken?)
    /// Stop the session `sessionId` on the connector → `.accepted` once the stop is on disk (a
    /// restart carries it out), `.rejected` when that session does not run there.
    case stopSession(connectorId: Int, sessionId: String, reason: StopReason)
    /// The backend refused the session's token but keeps the transaction open: after
    /// `energyAllowanceWh` more (MaxEnergyOnInvalidId; 0: at once) no energy flows until it is
    /// stopped → `.accepted` once that is on disk, `.rejected` when that session does not run there.
    case deauthorizeSession(connectorId: Int, sessionId: String, energyAllowanceWh: Int = 0)
    /// Stop every running session (a reset) → `.accepted`.
    case stopAllSessions(reason: StopReason)
    /// → `.reservation` (nil answer: no such connector).
    case reserve(ReservationRequest)
    /// → `.accepted`, or `.rejected` when no connector holds the reservation.
    case cancelReservation(id: Int)
    /// Release the cable lock (ending a running session first) → `.unlock`, once the lock's
    /// feedback says where it is or the station gave up waiting.
    case unlock(connectorId: Int)
    /// Connector 0: every connector → `.availability` (nil: no such connector).
    case changeAvailability(connectorId: Int, operative: Bool)
    /// The backend's answer to an `.authorizationNeeded` event (nil: no answer; decide offline).
    case authorizationResult(IdToken, AuthorizationInfo?)
    /// What the backend said of a token outside an authorization (a transaction's answer), for
    /// the cache.
    case authorizationLearned(IdToken, AuthorizationInfo)
    case clearAuthorizationCache
    /// The CSMS's `currentTime` (BootNotification, Heartbeat), Unix ms: may set the station's
    /// clock and correct what was recorded before it was set. Answered once that is done.
    case centralSystemTime(unixMs: UInt64)
    /// The charging profiles now installed (replaces what the station had): their limits feed
    /// the power allocation from the next step on.
    case chargingProfiles(CompositeScheduleCalculator)
    /// The backend's connection: tokens go to it while online.
    case backendConnection(online: Bool)
    /// Authorization rules the backend set; they govern the next decision.
    case authorizationRules(AuthorizationRules)
    /// Session rules the backend set; they govern the next decision on every connector.
    case sessionRules(SessionRules)
    /// Restart the station process (hard: as after a power cycle; sessions were stopped first).
    case restart(hard: Bool)
    /// Energy management's charging mode (kept across restarts) → `.accepted`, or `.rejected`
    /// when the board has no grid meter or the mode could not be stored.
    case setChargingMode(ChargingMode)
    /// A price, a cost or a language for the driver's display → `.accepted` (see `PriceUpdate`).
    case showPrice(PriceUpdate)
    /// A backend's message for the driver's display (OCPP 2.0.1 SetDisplayMessage), shown by the
    /// station's message scheduler by its priority, states, window and transaction; it replaces
    /// the message with its id → `.accepted`. The backend keeps it across restarts and sends it again.
    case showMessage(DisplayMessage)
    /// Takes the backend's message `id` off the display → `.accepted`, `.rejected` when there was none.
    case removeMessage(id: Int)
}

/// What a backend tells the driver about money, whatever the protocol (OCPP 1.6's California
/// Pricing DataTransfer, 2.0.1's tariff and cost). The station shows it on the screen of the
/// state it belongs to.
public enum PriceUpdate: Sendable, Hashable {
    /// Shown while idle (nil: none). `offline` is shown instead while the backend is away.
    case defaultPrice(LocalizedText?, offline: LocalizedText?)
    /// The station's language (an IETF tag) for its screens and the multi-language texts;
    /// empty: the station file's.
    case stationLanguage(String)
    /// The price of the driver with `idToken`, shown once they are identified. `language` is
    /// theirs (an IETF tag): their screens and texts in it, falling back to the station's.
    case driverPrice(idToken: String, LocalizedText, language: String?)
    /// The running session's cost, carried forward locally from its reading.
    case runningCost(RunningCost)
    /// A finished session's total.
    case finalCost(FinalCost)
}

/// The station's answer to a request.
public enum StationAnswer: Sendable, Hashable {
    case accepted
    case rejected
    case connectors([ConnectorSnapshot])
    case remoteStart(RemoteStartAnswer)
    case reservation(ReservationAnswer?)
    case unlock(UnlockOutcome)
    case availability(AvailabilityAnswer?)
}

/// What happened at the station, in the order it happened.
public enum StationEvent: Sendable, Hashable {
    case statusChanged(connectorId: Int, ConnectorStatus, ConnectorErrorKind?, atUnixMs: UInt64)
    case sessionStarted(Session)
    /// A reading was kept in the running session (every `ConnectorConfig.sampleInterval`).
    case sessionUpdated(Session)
    case sessionEnded(Session)
    /// The next session's prelude began (the EV or a token came first) or ended without a
    /// session; on disk when this is heard. A protocol whose transaction began with it has its
    /// event queued by then (`SessionRecordChange.preludeBegan`/`preludeEnded`).
    case preludeChanged(connectorId: Int, SessionPrelude?)
    /// The connector's meter was read (about once a second).
    case meterSample(connectorId: Int, MeterSample)
    /// The core needs the backend's decision on a token (answer with `.authorizationResult`).
    case authorizationNeeded(IdToken)
    case reservationEnded(id: Int, ReservationEndReason)
    /// The station's own energy management (load sharing, grid meter, PV) holds the charging
    /// connector at `amps` per phase, below what its own limits and the backend's profiles
    /// allow; nil: it no longer does. Sent on a change of a whole ampere.
    case localChargingLimit(connectorId: Int, amps: Double?)
}

/// One connector as the station sees it when asked.
public struct ConnectorSnapshot: Sendable, Hashable {
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
    /// The reservation the connector holds, if any.
    public var reservationId: Int?
    /// The next session's prelude (the EV or a token came first), if any.
    public var prelude: SessionPrelude?

    public init(id: Int, status: ConnectorStatus?, error: ConnectorErrorKind? = nil, vehicleConnected: Bool = false,
                session: Session? = nil, energyWh: Double? = nil, powerW: Double? = nil, currentsA: [Double] = [],
                reservationId: Int? = nil, prelude: SessionPrelude? = nil) {
        self.prelude = prelude
        self.id = id
        self.status = status
        self.error = error
        self.vehicleConnected = vehicleConnected
        self.session = session
        self.energyWh = energyWh
        self.powerW = powerW
        self.currentsA = currentsA
        self.reservationId = reservationId
    }
}

/// The station's decision on a remote start.
public enum RemoteStartAnswer: Sendable, Hashable {
    /// Taken on this connector: the session starts once the EV is plugged in (or at once).
    case accepted(connectorId: Int)
    case rejected
}

/// A reservation as the backend asks for it (the expiry in wall-clock Unix ms).
public struct ReservationRequest: Sendable, Hashable {
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

/// Where an unlock ended.
public enum UnlockOutcome: Sendable, Hashable {
    /// The feedback reads unlocked.
    case unlocked
    /// The lock did not open (jammed, no feedback in time).
    case unlockFailed
    /// No such connector, or it has no lock (a tethered cable).
    case notSupported
}

/// The authorization rules a backend may change while the station runs.
public struct AuthorizationRules: Sendable, Hashable {
    /// A token in the local list or cache starts without asking the backend first.
    public var localPreAuthorize: Bool
    /// Offline, the local list and cache decide.
    public var localAuthorizeOffline: Bool
    /// Offline, an unknown token may start.
    public var allowOfflineTxForUnknownId: Bool
    public var cacheEnabled: Bool
    public var localListEnabled: Bool
    /// What leaves the full cache: "LRU" (least recently used), "LFU" (least frequently used)
    /// or "FIFO" (the first stored); tokens that no longer authorize go first in every case.
    public var cacheEviction: String
    /// A cached token not used for this long leaves the cache; nil: never.
    public var cacheLifeTimeSeconds: Int?

    public init(localPreAuthorize: Bool, localAuthorizeOffline: Bool, allowOfflineTxForUnknownId: Bool,
                cacheEnabled: Bool, localListEnabled: Bool, cacheEviction: String = "LRU", cacheLifeTimeSeconds: Int? = nil) {
        self.localPreAuthorize = localPreAuthorize
        self.localAuthorizeOffline = localAuthorizeOffline
        self.allowOfflineTxForUnknownId = allowOfflineTxForUnknownId
        self.cacheEnabled = cacheEnabled
        self.localListEnabled = localListEnabled
        self.cacheEviction = cacheEviction
        self.cacheLifeTimeSeconds = cacheLifeTimeSeconds
    }
}

/// The session rules a backend may change while the station runs.
public struct SessionRules: Sendable, Hashable {
    /// Authorized but not plugged in within this time: the authorization lapses.
    public var connectionTimeout: EVSEDuration
    /// The EV side unplugged ends the session (else it stays open, suspended).
    public var stopOnEVSideDisconnect: Bool
    /// The EV side unplugged releases the socket lock.
    public var unlockOnEVSideDisconnect: Bool

    public init(connectionTimeout: EVSEDuration, stopOnEVSideDisconnect: Bool, unlockOnEVSideDisconnect: Bool) {
        self.connectionTimeout = connectionTimeout
        self.stopOnEVSideDisconnect = stopOnEVSideDisconnect
        self.unlockOnEVSideDisconnect = unlockOnEVSideDisconnect
    }
}

extension StationPort {
    /// The connectors now, in id order.
    public func connectors() async -> [ConnectorSnapshot] {
        if case let .connectors(list) = await request(.connectors) { return list }
        return []
    }

    /// `request` for a yes-or-no request (stop, cancel).
    public func requestAccepted(_ r: StationRequest) async -> Bool {
        await request(r) == .accepted
    }
}
