import HAL

/// Where a connector is in the life of its sessions: everything the machine knows about the
/// open session, its stop, and the next session's authorization, in one value.
///
/// Each piece lives only in the phase where it means something, so the combinations the
/// machine must never be in cannot be written down: a stop without a session, a grant beside an
/// open session, a final meter reading for a session that is not stopping, a lock held for a
/// finished session while another one runs. The only ways between phases are:
///
///     idle ──(authorized, plugged in, locked)──▶ running ──(stop)──▶ stopping
///       ▲                                                                │
///       └────────(contactor open, meter read after that: ended)─────────┘
///
/// plus `resume`, which adopts a journaled session (running, or stopping when its stop was
/// journaled) in place of an idle connector.
enum SessionPhase: Hashable, Sendable {
    /// No session is open.
    case idle(Idle)
    /// A session is open and energy may flow. `groupCheck` is another token presented during
    /// the session, asked about to learn whether it shares the session's group (and so may
    /// stop it).
    case running(Session, groupCheck: IdToken?)
    /// A session is open and must end; it ends once the contactor is open and the meter was
    /// read after that.
    case stopping(Stopping)

    /// Authorization to start a session, with the session's origin.
    struct Grant: Hashable, Sendable {
        var idToken: IdToken
        var parentIdToken: IdToken?
        var at: MonotonicInstant
        var reason: SessionStartReason
    }

    /// How far the next session is authorized.
    enum StartAuthorization: Hashable, Sendable {
        case none
        /// A token was presented and asked about (`.authorize`); no answer yet.
        case authorizing(IdToken)
        /// Granted: the session starts once the EV is plugged in (and locked). Another token
        /// may be presented meanwhile: accepted, it replaces this grant; refused, this one stands.
        case authorized(Grant, authorizing: IdToken?)
    }

    /// A connector without a session: the next one's authorization and what the last one
    /// left behind.
    struct Idle: Hashable, Sendable {
        var authorization: StartAuthorization = .none
        /// The last session ended with the EV plugged in, and it has not been unplugged since:
        /// the connector shows Finishing, and free vend does not start again on the same plug-in.
        var lastSessionStillPlugged = false
        /// The last session ended by unplugging the EV side with `unlockOnEVSideDisconnect` off:
        /// the lock holds until this token is presented again or an unlock is asked for.
        var lockHeldFor: IdToken?
        /// The EV or a token came first: the next session's id is known (see `SessionPrelude`).
        var prelude: SessionPrelude?
        /// A prelude begun by this plug-in ended without a session (a stop, a fault): the next
        /// one waits for a new plug-in or a token.
        var preludeSpentOnPlugIn = false
    }

    /// A session that must end, and how far its ending got.
    struct Stopping: Hashable, Sendable {
        var session: Session
        var stop: RequestedStop
        /// `.persist(.stopRequested)` was emitted: a restart carries the stop out instead of
        /// resuming the session.
        var journaled = false
        var finalReading: FinalReading = .notAsked
        /// As in `running`: the stop does not cancel the question already asked.
        var groupCheck: IdToken?
        /// The EV side was unplugged with `unlockOnEVSideDisconnect` off: once the session
        /// has ended the lock holds for this token (`Idle.lockHeldFor`).
        var lockHeldAfterFor: IdToken?
    }

    /// The meter reading that gives a stopping session its meter stop: it must be taken after
    /// the contactor opened, or the last few watt-hours are billed to nobody.
    enum FinalReading: Hashable, Sendable {
        case notAsked
        /// `.readMeterNow` was emitted at this instant.
        case awaited(since: MonotonicInstant)
        /// A reading taken since then arrived.
        case taken
    }

    static let initial = SessionPhase.idle(Idle())
}

// MARK: - Queries

extension SessionPhase {
    /// The open session, running or stopping.
    var session: Session? {
        switch self {
        case .idle: return nil
        case let .running(s, _): return s
        case let .stopping(st): return st.session
        }
    }

    var isRunning: Bool { if case .running = self { return true } else { return false } }

    /// The grant waiting for the EV (idle only).
    var grant: Grant? {
        guard case let .idle(idle) = self, case let .authorized(g, _) = idle.authorization else { return nil }
        return g
    }

    /// The token asked about and not yet answered: to start a session when idle, against the
    /// open session's group otherwise.
    var tokenBeingAuthorized: IdToken? {
        switch self {
        case let .idle(idle):
            switch idle.authorization {
            case .none: return nil
            case let .authorizing(t): return t
            case let .authorized(_, t): return t
            }
        case let .running(_, t): return t
        case let .stopping(st): return st.groupCheck
        }
    }

    /// See `Idle.lastSessionStillPlugged`.
    var lastSessionStillPlugged: Bool {
        if case let .idle(idle) = self { return idle.lastSessionStillPlugged } else { return false }
    }

    /// See `Idle.prelude`.
    var prelude: SessionPrelude? {
        if case let .idle(idle) = self { return idle.prelude } else { return nil }
    }

    /// See `Idle.preludeSpentOnPlugIn`.
    var preludeSpentOnPlugIn: Bool {
        if case let .idle(idle) = self { return idle.preludeSpentOnPlugIn } else { return false }
    }

    /// See `Idle.lockHeldFor`.
    var lockHeldFor: IdToken? {
        if case let .idle(idle) = self { return idle.lockHeldFor } else { return nil }
    }
}

// MARK: - Changes

extension SessionPhase {
    /// Running → stopping. The first stop wins: a stopping session keeps its reason, and
    /// without a session there is nothing to stop.
    mutating func requestStop(_ stop: RequestedStop, lockHeldAfterFor: IdToken? = nil) {
        guard case let .running(s, groupCheck) = self else { return }
        self = .stopping(Stopping(session: s, stop: stop, groupCheck: groupCheck, lockHeldAfterFor: lockHeldAfterFor))
    }

    /// Asks about `token`, replacing any token asked about before (whose answer is then ignored).
    mutating func beginAuthorizing(_ token: IdToken) {
        switch self {
        case var .idle(idle):
            switch idle.authorization {
            case .none, .authorizing: idle.authorization = .authorizing(token)
            case let .authorized(g, _): idle.authorization = .authorized(g, authorizing: token)
            }
            self = .idle(idle)
        case let .running(s, _):
            self = .running(s, groupCheck: token)
        case var .stopping(st):
            st.groupCheck = token
            self = .stopping(st)
        }
    }

    /// Takes the answer for `token` if it is the one being asked about (and forgets the
    /// question); false for an answer nobody waits for any more.
    mutating func takeAnswer(for token: IdToken) -> Bool {
        guard tokenBeingAuthorized == token else { return false }
        forgetQuestion()
        return true
    }

    private mutating func forgetQuestion() {
        switch self {
        case var .idle(idle):
            if case let .authorized(g, _) = idle.authorization { idle.authorization = .authorized(g, authorizing: nil) }
            else { idle.authorization = .none }
            self = .idle(idle)
        case let .running(s, _):
            self = .running(s, groupCheck: nil)
        case var .stopping(st):
            st.groupCheck = nil
            self = .stopping(st)
        }
    }

    /// Authorizes the next session (idle only), replacing an earlier grant. A token being asked
    /// about stays asked about.
    mutating func grant(_ grant: Grant) {
        guard case var .idle(idle) = self else { return }
        idle.authorization = .authorized(grant, authorizing: tokenBeingAuthorized)
        self = .idle(idle)
    }

    /// Drops the grant (expired, inoperative, unlock); returns it.
    @discardableResult
    mutating func withdrawGrant() -> Grant? {
        guard case var .idle(idle) = self, case let .authorized(g, asking) = idle.authorization else { return nil }
        idle.authorization = asking.map { .authorizing($0) } ?? .none
        self = .idle(idle)
        return g
    }

    /// Forgets the grant and the question in progress, whatever the phase (a blocking fault,
    /// the connector made inoperative, a stop with no session open).
    mutating func forgetAuthorizations() {
        withdrawGrant()
        forgetQuestion()
    }

    /// Sets or clears the prelude (idle only). Cleared with the EV still plugged in, the plug-in
    /// counts as used: the next prelude waits for a new plug-in or a token.
    mutating func setPrelude(_ prelude: SessionPrelude?, stillPlugged: Bool = false) {
        guard case var .idle(idle) = self else { return }
        idle.prelude = prelude
        if prelude == nil && stillPlugged { idle.preludeSpentOnPlugIn = true }
        self = .idle(idle)
    }

    /// The lock need not hold for a finished session any more (an unlock was asked for).
    mutating func releaseHeldLock() {
        switch self {
        case var .idle(idle):
            idle.lockHeldFor = nil
            self = .idle(idle)
        case .running:
            break
        case var .stopping(st):
            st.lockHeldAfterFor = nil
            self = .stopping(st)
        }
    }

    /// The EV was unplugged (pilot A): nothing is left of the last plug-in; a running session
    /// is stopped when `stop` is given.
    mutating func vehicleUnplugged(stop: RequestedStop?, holdLock: Bool) {
        switch self {
        case var .idle(idle):
            idle.lastSessionStillPlugged = false
            idle.preludeSpentOnPlugIn = false
            self = .idle(idle)
        case let .running(s, _):
            if let stop { requestStop(stop, lockHeldAfterFor: holdLock ? s.idToken : nil) }
        case .stopping:
            break
        }
    }

    /// A meter reading taken at `readAt` arrived: it is the final reading if taken after it was
    /// asked for.
    mutating func meterRead(at readAt: MonotonicInstant) {
        guard case var .stopping(st) = self, case let .awaited(since) = st.finalReading, readAt >= since else { return }
        st.finalReading = .taken
        self = .stopping(st)
    }

    /// Changes the open session's record (samples, suspended periods); nothing when idle.
    mutating func updateSession(_ change: (inout Session) -> Void) {
        switch self {
        case .idle:
            break
        case .running(var s, let groupCheck):
            change(&s)
            self = .running(s, groupCheck: groupCheck)
        case var .stopping(st):
            change(&st.session)
            self = .stopping(st)
        }
    }

    /// Idle → running. What the last session left behind goes; a token being asked about is
    /// from now on asked about against the new session's group.
    mutating func start(_ session: Session) {
        guard case .idle = self else { return }
        self = .running(session, groupCheck: tokenBeingAuthorized)
    }

    /// Stopping → idle, once the session's end is recorded. A token still being asked about
    /// is then asked about to start the next session, as it would be had it been presented now.
    mutating func end(stillPlugged: Bool) {
        guard case let .stopping(st) = self else { return }
        self = .idle(Idle(authorization: st.groupCheck.map { .authorizing($0) } ?? .none,
                          lastSessionStillPlugged: stillPlugged, lockHeldFor: st.lockHeldAfterFor))
    }
}
