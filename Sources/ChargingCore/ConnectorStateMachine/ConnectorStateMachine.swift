import Drivers
import HAL

/// One connector: IEC 61851-1 pilot sequencing (A → B → C/D, x1/x2) plus session logic.
///
/// Pure: it reads no clock and does no I/O. The station feeds it events with the monotonic
/// `now` (and, when it has one, the wall clock in Unix ms) and executes the returned commands
/// in order. Timers are driven by `nextDeadline()` and `.tick`.
///
/// The contactor is closed only while all of these hold: a session is open and not stopping
/// (it was authorized, or free vend), the pilot offers a current, the EV is in C (or D on a
/// board that ventilates), no fault that blocks energy is active, the lock is confirmed on a
/// socket, and the cable rating is known. Energy is granted in the same `handle` call in which
/// the last condition becomes true, so "within 3 s of C2" holds with margin. It opens in the
/// same call as: C/D → B, A, E or F; any blocking fault; the lock or cable becoming unknown.
/// When only the PWM was withdrawn (stop, suspension), the EV is given
/// `pwmWithdrawnOpenTimeout` (6 s) to go to B before the contactor opens under load.
///
/// Faults end the open session (reasons: EmergencyStop, GroundFault, OvercurrentFault,
/// Other): a session never resumes on its own after a safety event. Over-current is handled
/// the same way: the session ends with `OvercurrentFault` and the connector stays Faulted
/// until the EV is unplugged or a person clears it.
public struct ConnectorStateMachine: Sendable {
    public let connectorId: Int
    /// Fixed by the board, except the session rules a backend may change (`updateSessionRules`).
    public internal(set) var config: ConnectorConfig

    enum LockPhase: Hashable, Sendable { case unlocked, locking, locked, unlocking }

    /// The last pilot state reported (nil until the first report).
    public internal(set) var pilot: CPState?
    /// The cable's rating (A) if known.
    public internal(set) var cableAmps: Double?
    /// What the contactor was last told (true = closed).
    public internal(set) var contactorClosed = false
    /// What the pilot was last told.
    public internal(set) var pilotCommand: PilotCommand?
    /// Operative as in effect now (a scheduled change applies when the session ends).
    public internal(set) var operative: Bool
    public internal(set) var requestedOperative: Bool
    public internal(set) var reservation: Reservation?
    /// The status last reported.
    public internal(set) var status: ConnectorStatus?
    public internal(set) var errorKind: ConnectorErrorKind?

    /// The session, its stop and the next one's authorization (see `SessionPhase`).
    var phase: SessionPhase = .initial
    var faults: FaultLatch
    var lockPhase: LockPhase = .unlocked
    var contactorStateReported = false
    var pwmWithdrawnAt: MonotonicInstant?
    var allocatedAmps: Double?
    var lastMeter: MeterSample?
    var lastSampleAt: MonotonicInstant?
    var overCurrentReferenceAmps: Double?
    var overCurrentSince: MonotonicInstant?
    var idGenerator: SessionIdGenerator
    var wallAnchor: (mono: MonotonicInstant, unixMs: UInt64)?
    /// The prelude must end for this reason (a stop, a fault, inoperative, an unlock), whatever
    /// the EV and the grant say; `updatePrelude` ends it and clears this.
    var preludeEndReason: StopReason?

    /// - Parameter operative: the availability persisted before the reboot.
    public init(connectorId: Int, config: ConnectorConfig, operative: Bool = true) {
        self.connectorId = connectorId
        self.config = config
        self.operative = operative
        self.requestedOperative = operative
        self.cableAmps = config.fixedCableAmps
        self.faults = FaultLatch(rcdSelfTestAvailable: config.rcdSelfTestAvailable)
        self.idGenerator = SessionIdGenerator(seed: config.sessionIdSeed ^ UInt64(truncatingIfNeeded: connectorId))
    }

    // MARK: - Queries

    /// The open session, if any.
    public var session: Session? { phase.session }

    /// The next session's id and what began it, while the EV or a token waits for the other.
    public var prelude: SessionPrelude? { phase.prelude }

    /// The faults active now, most severe first.
    public var activeFaults: [ConnectorFault] { faults.active }

    public var hasBlockingFault: Bool { faults.blocksEnergy }

    /// Whether a remote start would be taken now (the adapter answers Accepted/Rejected).
    public var acceptsRemoteStart: Bool {
        session == nil && operative && !hasBlockingFault
    }

    /// True when the cable lock is commanded or confirmed locked.
    public var isLockEngaged: Bool { lockPhase == .locked || lockPhase == .locking }

    /// The earliest instant at which `.tick` changes something, if any.
    public func nextDeadline() -> MonotonicInstant? {
        var deadlines: [MonotonicInstant] = []
        if let g = phase.grant, !vehicleConnected { deadlines.append(g.at + config.connectionTimeout) }
        if let r = reservation { deadlines.append(r.expiresAt) }
        if contactorClosed, let since = overCurrentSince { deadlines.append(since + config.overCurrentGrace) }
        if contactorClosed, let at = pwmWithdrawnAt { deadlines.append(at + config.pwmWithdrawnOpenTimeout) }
        if case let .stopping(st) = phase, case let .awaited(since) = st.finalReading {
            deadlines.append(since + config.finalMeterReadingTimeout)
        }
        return deadlines.min()
    }

    var vehicleConnected: Bool { pilot?.vehicleConnected ?? false }

    // MARK: - Input

    /// Applies one event and returns the commands to execute, in order.
    /// - Parameter unixMs: the wall clock now, when the station has it; otherwise it is
    ///   extrapolated from the last one given (timestamps are 0 until one is given).
    public mutating func handle(_ event: ConnectorEvent, at now: MonotonicInstant,
                                unixMs: UInt64? = nil) -> [ConnectorCommand] {
        if let unixMs { wallAnchor = (now, unixMs) }
        var out: [ConnectorCommand] = []
        apply(event, at: now, into: &out)
        reconcile(at: now, into: &out)
        return out
    }

    /// Adopts a session recovered after a restart (see `SessionRecovery`). Ignored when a
    /// session is already open, the session is ended, or it belongs to another connector.
    /// The station resumes before it feeds the connector anything but a meter reading; a grant
    /// or a held lock from before would belong to no session and is dropped.
    public mutating func resume(_ recovered: Session, at now: MonotonicInstant,
                                unixMs: UInt64? = nil) -> [ConnectorCommand] {
        if let unixMs { wallAnchor = (now, unixMs) }
        guard session == nil, !recovered.isEnded, recovered.connectorId == connectorId else { return [] }
        let asking = phase.tokenBeingAuthorized
        if let stop = recovered.requestedStop {
            // Accepted before the restart: carried out, not resumed.
            phase = .stopping(SessionPhase.Stopping(session: recovered, stop: stop, journaled: true, groupCheck: asking))
        } else {
            phase = .running(recovered, groupCheck: asking)
        }
        lastSampleAt = now
        var out: [ConnectorCommand] = []
        reconcile(at: now, into: &out)
        return out
    }

    /// Adopts a prelude journaled before a restart (see `SessionPrelude`), before the connector
    /// is fed its inputs: its id is kept, and an authorized prelude's grant is given back with a
    /// fresh connection timeout. Ignored when a session or a prelude is already there.
    public mutating func resumePrelude(_ recovered: SessionPrelude, at now: MonotonicInstant,
                                       unixMs: UInt64? = nil) -> [ConnectorCommand] {
        if let unixMs { wallAnchor = (now, unixMs) }
        guard case .idle = phase, phase.prelude == nil, recovered.connectorId == connectorId else { return [] }
        phase.setPrelude(recovered)
        if recovered.cause == .authorized, let token = recovered.idToken {
            phase.grant(Grant(idToken: token, parentIdToken: recovered.parentIdToken, at: now,
                              reason: recovered.startReason ?? .local))
        }
        var out: [ConnectorCommand] = []
        reconcile(at: now, into: &out)
        return out
    }

    func unixMs(at now: MonotonicInstant) -> UInt64 {
        guard let anchor = wallAnchor else { return 0 }
        let elapsedMs = (now - anchor.mono).microseconds / 1_000
        return elapsedMs >= 0 ? anchor.unixMs &+ UInt64(elapsedMs) : anchor.unixMs &- min(anchor.unixMs, UInt64(-elapsedMs))
    }

    /// The reserved token, the reservation's group id itself (a remote start the backend makes
    /// for the group), or a token of that group.
    static func matches(_ r: Reservation, _ token: IdToken, _ parent: IdToken?) -> Bool {
        if token.identifies(r.idToken) { return true }
        guard let reservedParent = r.parentIdToken else { return false }
        if token.identifies(reservedParent) { return true }
        guard let parent else { return false }
        return parent.identifies(reservedParent)
    }
}
