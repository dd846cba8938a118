import Drivers
import HAL

/// A reservation of a connector for one token (or its parent group).
public struct Reservation: Hashable, Sendable {
    public var id: Int
    public var idToken: IdToken
    public var parentIdToken: IdToken?
    /// Monotonic expiry; the station converts the backend's wall-clock expiry.
    public var expiresAt: MonotonicInstant

    public init(id: Int, idToken: IdToken, parentIdToken: IdToken? = nil, expiresAt: MonotonicInstant) {
        self.id = id
        self.idToken = idToken
        self.parentIdToken = parentIdToken
        self.expiresAt = expiresAt
    }
}

/// Everything that can happen to a connector. The station turns driver readings, reader
/// input, power-allocation results and protocol requests into these:
///
/// - `ControlPilot` `PilotStateChange.to` → `.pilotChanged`; `diodeFault` → `.faultRaised(.diode)`.
/// - `ProximityPilot` rating (sockets) → `.cableRatingChanged`.
/// - `CableLock` locked/unlocked → `.lockConfirmed`/`.unlockConfirmed`; its faults →
///   `.faultRaised(.lock(fault))` (and `.faultCleared` when it recovers).
/// - `Contactor.poll` faults → `.contactorFault(kind)` (cleared only by `.clearFault`).
/// - `FaultInputs.poll` → `.faultRaised(.input(kind))` / `.faultCleared(.input(kind))` on
///   changes; an `RCDSelfTest` outcome → `.rcdSelfTestFinished`.
/// - Meter polls → `.meterSample`; a meter that stops answering → `.faultRaised(.meter)`.
/// - Reader → `.authorizationRequested`; `AuthorizationService` → `.authorizationResult`.
public enum ConnectorEvent: Hashable, Sendable {
    /// The debounced pilot state (`ControlPilot`).
    case pilotChanged(CPState)
    /// The cable's current capacity from PP (nil = no plug or an invalid resistor).
    /// Tethered connectors use `ConnectorConfig.fixedCableAmps` instead.
    case cableRatingChanged(amps: Double?)
    /// The lock reports locked / unlocked.
    case lockConfirmed
    case unlockConfirmed
    /// The contactor driver found a fault (welded, failed to close, opened unexpectedly).
    case contactorFault(ContactorFaultKind)
    /// A fault appeared / its source cleared (fault inputs, lock, meter, reader, diode).
    case faultRaised(ConnectorFault)
    case faultCleared(ConnectorFault)
    /// A person cleared the latched faults (service menu, `evsectl`, backend reset of the
    /// fault). A residual-current fault then needs a passing self-test again.
    case clearFault
    /// The result of a `.runRCDSelfTest` command (or of a self-test at boot).
    case rcdSelfTestFinished(passed: Bool)
    /// A token was presented at this connector (card, key code).
    case authorizationRequested(IdToken)
    /// The answer of `AuthorizationService` for a token asked about by `.authorize`.
    case authorizationResult(IdToken, AuthorizationInfo)
    /// The backend starts a session (already authorized by the adapter if the protocol asks
    /// for that).
    case remoteStart(IdToken, parentIdToken: IdToken?)
    /// Stop the session (remote stop, reset, de-authorized by the backend…).
    case stopRequested(StopReason)
    /// The backend refused the running session's token but keeps the transaction open
    /// (StopTransactionOnInvalidId / StopTxOnInvalidId false): after `energyAllowanceWh` more
    /// (MaxEnergyOnInvalidId; 0: at once) no energy flows until the session is stopped.
    case deauthorized(energyAllowanceWh: Double = 0)
    /// Unlock the connector (OCPP UnlockConnector): ends a session first.
    case unlockRequested
    /// A meter reading (energy register, phase currents).
    case meterSample(MeterSample)
    /// The current power allocation grants this connector (A); below the minimum → suspend.
    case allocatedCurrent(amps: Double)
    /// Operative / inoperative; applied at once when idle, after the session otherwise.
    case setAvailability(operative: Bool)
    case reserve(Reservation)
    case cancelReservation(id: Int)
    /// Time passed: call at or after `nextDeadline()`.
    case tick
}

extension ConnectorEvent {
    /// The lock did not reach its position (`CableLock` reported `failedToLock`).
    public static let lockFailed = ConnectorEvent.faultRaised(.lock(.failedToLock))
}

/// What the pilot should signal.
public enum PilotCommand: Hashable, Sendable {
    /// PWM offering this current (state x2).
    case offer(amps: Double)
    /// Steady +12 V: no current offered (state x1).
    case notReady
    /// Steady −12 V.
    case stateF
}

public enum ContactorOpenReason: String, Hashable, Sendable, Codable {
    /// The EV went from C/D to B or A, or the session ended while it was in B.
    case evStoppedCharging
    /// A fault (safety or otherwise) is active.
    case fault
    /// PWM was withdrawn and the EV stayed in C/D for `pwmWithdrawnOpenTimeout`.
    case pwmWithdrawnTimeout
    /// The conditions for energy no longer hold (session ended, lock lost, cable unknown,
    /// ventilation unavailable in D, first reconcile after start).
    case notPermitted
}

public enum ReservationEndReason: String, Hashable, Sendable, Codable {
    case used, expired, cancelled, unavailable, faulted
}

/// The answer to `.reserve` (OCPP 1.6 ReserveNow status).
public enum ReservationAnswer: String, Hashable, Sendable, Codable {
    case accepted, occupied, faulted, unavailable, rejected
}

/// The answer to `.setAvailability` (OCPP ChangeAvailability status).
public enum AvailabilityAnswer: String, Hashable, Sendable, Codable {
    case accepted, scheduled
}

/// What the station must do, in order. `.persist` comes before anything it records has
/// effect: a session start is persisted before the contactor can close, a session end
/// before the lock is released. (An opening contactor is never delayed for persistence:
/// opening only stops billing, and a crash in between is settled by `SessionRecovery`.)
public enum ConnectorCommand: Hashable, Sendable {
    case persist(SessionRecordChange)
    case setPilot(PilotCommand)
    case closeContactor
    case openContactor(ContactorOpenReason)
    case lock
    case unlock
    case statusChanged(ConnectorStatus, ConnectorErrorKind?)
    case sessionStarted(Session)
    case sessionEnded(Session)
    /// Ask `AuthorizationService` about this token; answer with `.authorizationResult`.
    case authorize(IdToken)
    /// A token was refused (for the display and the reader's LED/buzzer).
    case authorizationDenied(IdToken, AuthorizationStatus)
    /// Run the board's RCD self-test; answer with `.rcdSelfTestFinished`.
    case runRCDSelfTest
    case reservationAnswered(id: Int, ReservationAnswer)
    case reservationEnded(id: Int, ReservationEndReason)
    case availabilityAnswered(AvailabilityAnswer)
    /// Read the meter now and feed the reading back as `.meterSample` (with `readAt`): the
    /// final reading of a stopping session, whose contactor is open.
    case readMeterNow
}
