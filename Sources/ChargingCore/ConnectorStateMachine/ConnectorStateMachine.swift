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
    enum FaultPhase: Hashable, Sendable { case active, awaitingSelfTest, selfTestFailed }
    struct Grant: Hashable, Sendable {
        var idToken: IdToken
        var parentIdToken: IdToken?
        var at: MonotonicInstant
        var reason: SessionStartReason
    }
    typealias StopRequest = RequestedStop

    /// The last pilot state reported (nil until the first report).
    public private(set) var pilot: CPState?
    /// The cable's rating (A) if known.
    public private(set) var cableAmps: Double?
    /// What the contactor was last told (true = closed).
    public private(set) var contactorClosed = false
    /// What the pilot was last told.
    public private(set) var pilotCommand: PilotCommand?
    /// The open session, if any.
    public private(set) var session: Session?
    /// Operative as in effect now (a scheduled change applies when the session ends).
    public private(set) var operative: Bool
    public private(set) var requestedOperative: Bool
    public private(set) var reservation: Reservation?
    /// The status last reported.
    public private(set) var status: ConnectorStatus?
    public private(set) var errorKind: ConnectorErrorKind?

    private(set) var lockPhase: LockPhase = .unlocked
    private(set) var faultPhases: [ConnectorFault: FaultPhase] = [:]
    private var contactorStateReported = false
    private var pwmWithdrawnAt: MonotonicInstant?
    private var pendingAuthorization: IdToken?
    private var grant: Grant?
    private var stopRequest: StopRequest?
    /// The stop request is in the journal (`.persist(.stopRequested)` emitted for it).
    private var stopRequestPersisted = false
    /// When the final meter reading of a stopping session was asked for (`.readMeterNow`),
    /// and whether a reading taken since has arrived.
    private var finalReadingAskedAt: MonotonicInstant?
    private var finalReadingTaken = false
    private var finishing = false
    /// After a session ended by unplugging the EV side with `unlockOnEVSideDisconnect` off,
    /// the lock holds until the session's token is presented again or an unlock is asked for.
    private var holdLockFor: IdToken?
    private var allocatedAmps: Double?
    private var lastMeter: MeterSample?
    private var lastSampleAt: MonotonicInstant?
    private var overCurrentReferenceAmps: Double?
    private var overCurrentSince: MonotonicInstant?
    private var idGenerator: SessionIdGenerator
    private var wallAnchor: (mono: MonotonicInstant, unixMs: UInt64)?

    /// - Parameter operative: the availability persisted before the reboot.
    public init(connectorId: Int, config: ConnectorConfig, operative: Bool = true) {
        self.connectorId = connectorId
        self.config = config
        self.operative = operative
        self.requestedOperative = operative
        self.cableAmps = config.fixedCableAmps
        self.idGenerator = SessionIdGenerator(seed: config.sessionIdSeed ^ UInt64(truncatingIfNeeded: connectorId))
    }

    // MARK: - Queries

    /// The faults active now, most severe first.
    public var activeFaults: [ConnectorFault] {
        faultPhases.keys.sorted { $0.severity < $1.severity || ($0.severity == $1.severity && $0.description < $1.description) }
    }

    public var hasBlockingFault: Bool { faultPhases.keys.contains { $0.blocksEnergy } }

    /// Whether a remote start would be taken now (the adapter answers Accepted/Rejected).
    public var acceptsRemoteStart: Bool {
        session == nil && operative && !hasBlockingFault
    }

    /// True when the cable lock is commanded or confirmed locked.
    public var isLockEngaged: Bool { lockPhase == .locked || lockPhase == .locking }

    /// The earliest instant at which `.tick` changes something, if any.
    public func nextDeadline() -> MonotonicInstant? {
        var deadlines: [MonotonicInstant] = []
        if let g = grant, !(pilot?.vehicleConnected ?? false) { deadlines.append(g.at + config.connectionTimeout) }
        if let r = reservation { deadlines.append(r.expiresAt) }
        if contactorClosed, let since = overCurrentSince { deadlines.append(since + config.overCurrentGrace) }
        if contactorClosed, let at = pwmWithdrawnAt { deadlines.append(at + config.pwmWithdrawnOpenTimeout) }
        if let asked = finalReadingAskedAt, !finalReadingTaken { deadlines.append(asked + config.finalMeterReadingTimeout) }
        return deadlines.min()
    }

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
    public mutating func resume(_ recovered: Session, at now: MonotonicInstant,
                                unixMs: UInt64? = nil) -> [ConnectorCommand] {
        if let unixMs { wallAnchor = (now, unixMs) }
        guard session == nil, !recovered.isEnded, recovered.connectorId == connectorId else { return [] }
        session = recovered
        lastSampleAt = now
        if let stop = recovered.requestedStop {
            // Accepted before the restart: carried out, not resumed.
            stopRequest = stop
            stopRequestPersisted = true
        }
        var out: [ConnectorCommand] = []
        reconcile(at: now, into: &out)
        return out
    }

    private func unixMs(at now: MonotonicInstant) -> UInt64 {
        guard let anchor = wallAnchor else { return 0 }
        let elapsedMs = (now - anchor.mono).microseconds / 1_000
        return elapsedMs >= 0 ? anchor.unixMs &+ UInt64(elapsedMs) : anchor.unixMs &- min(anchor.unixMs, UInt64(-elapsedMs))
    }

    private mutating func apply(_ event: ConnectorEvent, at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        switch event {
        case let .pilotChanged(state):
            pilot = state
            if state == .e || (state == .f && pilotCommand != .stateF) {
                raise(.pilot)
            } else {
                faultPhases[.pilot] = nil
            }
            if state == .a {
                for f in faultPhases.keys where f.clearing == .onUnplugOrPerson || f == .lock(.failedToLock) {
                    faultPhases[f] = nil
                }
                finishing = false
                overCurrentSince = nil
                if session != nil, stopRequest == nil, config.stopOnEVSideDisconnect {
                    stopRequest = StopRequest(reason: .evDisconnected)
                    if !config.unlockOnEVSideDisconnect { holdLockFor = session?.idToken }
                }
            }

        case let .cableRatingChanged(amps):
            if config.fixedCableAmps == nil {
                if let amps, amps.isFinite, amps > 0 { cableAmps = amps } else { cableAmps = nil }
            }

        case .lockConfirmed:
            lockPhase = .locked
            for f in faultPhases.keys { if case .lock = f { faultPhases[f] = nil } }

        case .unlockConfirmed:
            lockPhase = .unlocked

        case let .contactorFault(kind):
            raise(.contactor(kind))

        case let .faultRaised(fault):
            if fault.isResidualCurrent, faultPhases[fault] == .awaitingSelfTest {
                break  // the self-test trips the RCD on purpose; its result decides
            }
            raise(fault)

        case let .faultCleared(fault):
            guard let phase = faultPhases[fault], phase == .active, fault.clearing == .whenSourceClears else { break }
            if fault.isResidualCurrent && config.rcdSelfTestAvailable {
                faultPhases[fault] = .awaitingSelfTest
                if !faultPhases.contains(where: { $0.key != fault && $0.value == .awaitingSelfTest }) {
                    out.append(.runRCDSelfTest)
                }
            } else {
                faultPhases[fault] = nil
            }

        case .clearFault:
            var rerunSelfTest = false
            for (f, phase) in faultPhases {
                switch (f.clearing, phase) {
                case (.byPersonOnly, _), (.onUnplugOrPerson, _):
                    faultPhases[f] = nil
                case (_, .selfTestFailed):
                    faultPhases[f] = .awaitingSelfTest
                    rerunSelfTest = true
                default:
                    if case .lock = f { faultPhases[f] = nil }
                }
            }
            if rerunSelfTest { out.append(.runRCDSelfTest) }

        case let .rcdSelfTestFinished(passed):
            let waiting = faultPhases.filter { $0.key.isResidualCurrent && $0.value != .active }.map(\.key)
            if waiting.isEmpty {
                if !passed { raise(.input(.rcd), phase: .selfTestFailed) }
            } else {
                for f in waiting { faultPhases[f] = passed ? nil : .selfTestFailed }
            }

        case let .authorizationRequested(token):
            if let s = session {
                // The same identifier, whatever kind it arrived as: a card stops the session a
                // remote start opened for its idTag.
                if token.identifies(s.idToken) {
                    if stopRequest == nil { stopRequest = StopRequest(reason: .local, idToken: token) }
                } else {
                    pendingAuthorization = token
                    out.append(.authorize(token))
                }
            } else if let held = holdLockFor, held.identifies(token) {
                holdLockFor = nil
            } else if !operative || hasBlockingFault || config.freeVend {
                break
            } else {
                pendingAuthorization = token
                out.append(.authorize(token))
            }

        case let .authorizationResult(token, info):
            guard token == pendingAuthorization else { break }
            pendingAuthorization = nil
            let accepted = info.status == .accepted
            if let s = session {
                if accepted, let parent = info.parentIdToken, let sessionParent = s.parentIdToken, parent.identifies(sessionParent) {
                    if stopRequest == nil { stopRequest = StopRequest(reason: .local, idToken: token) }
                } else {
                    out.append(.authorizationDenied(token, accepted ? .concurrentTx : info.status))
                }
            } else if !accepted {
                out.append(.authorizationDenied(token, info.status))
            } else if !operative || hasBlockingFault {
                out.append(.authorizationDenied(token, .notAtThisTime))
            } else if let r = reservation, !Self.matches(r, token, info.parentIdToken) {
                out.append(.authorizationDenied(token, .notAtThisTime))
            } else {
                grant = Grant(idToken: token, parentIdToken: info.parentIdToken, at: now, reason: .local)
            }

        case let .remoteStart(token, parent):
            guard takesRemoteStart(token, parentIdToken: parent) else { break }
            grant = Grant(idToken: token, parentIdToken: parent, at: now, reason: .remote)

        case let .stopRequested(reason):
            if session != nil {
                if stopRequest == nil { stopRequest = StopRequest(reason: reason) }
            } else {
                grant = nil
                pendingAuthorization = nil
            }

        case .unlockRequested:
            holdLockFor = nil
            if session != nil {
                if stopRequest == nil { stopRequest = StopRequest(reason: .unlockCommand) }
            } else {
                grant = nil
                if config.lockRequired && !faultPhases.keys.contains(.contactor(.welded)) {
                    // Unlock even when we believe it is unlocked: the operator asks because
                    // the position is in doubt.
                    out.append(.unlock)
                    lockPhase = .unlocking
                }
            }

        case let .meterSample(sample):
            guard sample.energyWh.isFinite, sample.currentsA.allSatisfy(\.isFinite) else { break }
            lastMeter = sample
            if let asked = finalReadingAskedAt, (sample.readAt ?? now) >= asked { finalReadingTaken = true }
            if contactorClosed, let reference = overCurrentReferenceAmps,
               sample.maximumCurrentA > reference + max(config.overCurrentMarginAmps, reference * config.overCurrentMarginRatio) {
                if overCurrentSince == nil { overCurrentSince = now }
            } else {
                overCurrentSince = nil
            }
            if var s = session, lastSampleAt.map({ now - $0 >= config.sampleInterval }) ?? true {
                lastSampleAt = now
                let value = SampledValue(atUnixMs: unixMs(at: now), energyWh: sample.energyWh,
                                         currentsA: sample.currentsA, powerW: sample.powerW)
                s.sampledValues.append(value)
                if s.sampledValues.count > config.maxSampledValues { s.sampledValues.remove(at: 1) }
                session = s
                out.append(.persist(.sampled(sessionId: s.id, value)))
            }

        case let .allocatedCurrent(amps):
            if amps.isFinite, amps >= 0 { allocatedAmps = amps }

        case let .setAvailability(op):
            requestedOperative = op
            out.append(.persist(.availability(connectorId: connectorId, operative: op)))
            if session == nil {
                operative = op
                out.append(.availabilityAnswered(.accepted))
            } else {
                out.append(.availabilityAnswered(.scheduled))
            }
            if !op {
                grant = nil
                pendingAuthorization = nil
                if let r = reservation {
                    reservation = nil
                    out.append(.reservationEnded(id: r.id, .unavailable))
                }
            }

        case let .reserve(r):
            let answer: ReservationAnswer
            if !operative { answer = .unavailable }
            else if hasBlockingFault { answer = .faulted }
            else if session != nil || finishing || grant != nil || pendingAuthorization != nil
                        || (pilot?.vehicleConnected ?? false) || (reservation.map { $0.id != r.id } ?? false) {
                answer = .occupied
            } else if r.expiresAt <= now { answer = .rejected }
            else { answer = .accepted }
            if answer == .accepted { reservation = r }
            out.append(.reservationAnswered(id: r.id, answer))

        case let .cancelReservation(id):
            if let r = reservation, r.id == id {
                reservation = nil
                out.append(.reservationEnded(id: id, .cancelled))
            }

        case .tick:
            break
        }
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

    private mutating func raise(_ fault: ConnectorFault, phase: FaultPhase = .active) {
        if faultPhases[fault] == nil || phase == .active { faultPhases[fault] = phase }
        guard fault.blocksEnergy else { return }
        grant = nil
        pendingAuthorization = nil
        if session != nil, stopRequest == nil {
            let reason: StopReason
            switch fault {
            case .input(.emergencyStop): reason = .emergencyStop
            case .input(.rcd), .input(.dcResidual): reason = .groundFault
            case .overCurrent: reason = .overcurrentFault
            default: reason = .other
            }
            stopRequest = StopRequest(reason: reason)
        }
    }

    // MARK: - Derived conditions

    private var lockSatisfied: Bool { !config.lockRequired || lockPhase == .locked }

    private var evRequestsEnergy: Bool {
        pilot == .c || (pilot == .d && config.ventilationAvailable)
    }

    /// The current the pilot may offer now, before the minimum check.
    private var offerableAmps: Double {
        min(config.maximumCurrent, cableAmps ?? 0, allocatedAmps ?? config.maximumCurrent)
    }

    private var wantsOffer: Bool {
        session != nil && stopRequest == nil && !hasBlockingFault && (pilot?.vehicleConnected ?? false)
            && lockSatisfied && cableAmps != nil && offerableAmps >= config.minimumCurrent
    }

    private var wantsEnergy: Bool { wantsOffer && evRequestsEnergy }

    private var lockWanted: Bool {
        guard config.lockRequired else { return false }
        // Never release a plug that may be live.
        if contactorClosed || faultPhases.keys.contains(.contactor(.welded)) { return true }
        if session != nil {
            // A session kept open after the EV side was unplugged.
            if pilot == .a && !config.stopOnEVSideDisconnect { return !config.unlockOnEVSideDisconnect }
            return true
        }
        if holdLockFor != nil { return true }
        return grant != nil && (pilot?.vehicleConnected ?? false) && operative && !hasBlockingFault
    }

    // MARK: - Reconcile

    private mutating func reconcile(at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        // Timers.
        if let g = grant, !(pilot?.vehicleConnected ?? false), now >= g.at + config.connectionTimeout {
            grant = nil
            out.append(.authorizationDenied(g.idToken, .expired))
        }
        if let r = reservation, now >= r.expiresAt {
            reservation = nil
            out.append(.reservationEnded(id: r.id, .expired))
        }
        if contactorClosed, let since = overCurrentSince, now - since >= config.overCurrentGrace {
            overCurrentSince = nil
            raise(.overCurrent)
        }
        if session == nil {
            stopRequest = nil
            stopRequestPersisted = false
            finalReadingAskedAt = nil
        }

        // 1. Open the contactor first: safety before bookkeeping.
        if !contactorStateReported {
            contactorStateReported = true
            if !contactorClosed { out.append(.openContactor(.notPermitted)) }
        }
        if contactorClosed && !wantsEnergy {
            let reason: ContactorOpenReason?
            if hasBlockingFault { reason = .fault }
            else if !evRequestsEnergy { reason = .evStoppedCharging }
            else if session == nil || !lockSatisfied || cableAmps == nil { reason = .notPermitted }
            else {
                // Only the PWM is (being) withdrawn: give the EV its time to go to B.
                let since = pwmWithdrawnAt ?? now
                reason = now >= since + config.pwmWithdrawnOpenTimeout ? .pwmWithdrawnTimeout : nil
            }
            if let reason {
                contactorClosed = false
                pwmWithdrawnAt = nil
                overCurrentSince = nil
                out.append(.openContactor(reason))
            }
        }

        // 2. End the session once no energy flows and the meter was read after that.
        if var s = session, let stop = stopRequest, !contactorClosed, !awaitingFinalReading(at: now, into: &out) {
            let meterStop = lastMeter?.energyWh ?? s.lastKnownEnergyWh
            if !s.isEnded, let last = s.suspendedPeriods.last, last.toUnixMs == nil {
                out.append(.persist(.suspensionEnded(sessionId: s.id, atUnixMs: unixMs(at: now))))
            }
            if s.end(reason: stop.reason, meterStopWh: meterStop, atUnixMs: unixMs(at: now),
                     stopIdToken: stop.idToken.map { $0.identifies(s.idToken) } == true ? nil : stop.idToken) {
                out.append(.persist(.ended(s)))
                out.append(.sessionEnded(s))
            }
            session = nil
            stopRequest = nil
            stopRequestPersisted = false
            finalReadingAskedAt = nil
            finalReadingTaken = false
            finishing = pilot?.vehicleConnected ?? false
            lastSampleAt = nil
        }
        // A stop still under way is kept on disk: a restart carries it out instead of resuming.
        if let s = session, let stop = stopRequest, !stopRequestPersisted {
            stopRequestPersisted = true
            var kept = s
            kept.requestedStop = stop
            session = kept
            out.append(.persist(.stopRequested(sessionId: s.id, stop)))
        }
        if session == nil, operative != requestedOperative { operative = requestedOperative }
        if !operative { grant = nil }

        // 3. Start a session once authorized (or free vend), plugged in, locked.
        if session == nil, operative, !hasBlockingFault, pilot?.vehicleConnected ?? false {
            if grant == nil, config.freeVend, !finishing {
                grant = Grant(idToken: config.freeVendIdToken, parentIdToken: nil, at: now, reason: .freeVend)
            }
            if let g = grant, !config.hasMeter || lastMeter != nil {
                if config.lockRequired && lockPhase != .locked {
                    if lockPhase != .locking {
                        lockPhase = .locking
                        out.append(.lock)
                    }
                } else {
                    var s = Session(id: idGenerator.next(), connectorId: connectorId, idToken: g.idToken,
                                    parentIdToken: g.parentIdToken, startReason: g.reason,
                                    meterStartWh: lastMeter?.energyWh ?? 0, startedAtUnixMs: unixMs(at: now))
                    if let r = reservation, Self.matches(r, g.idToken, g.parentIdToken) {
                        s.reservationId = r.id
                        reservation = nil
                        out.append(.reservationEnded(id: r.id, .used))
                    }
                    grant = nil
                    finishing = false
                    holdLockFor = nil
                    session = s
                    lastSampleAt = now
                    if let m = lastMeter {
                        s.sampledValues = [SampledValue(atUnixMs: s.startedAtUnixMs, energyWh: m.energyWh,
                                                        currentsA: m.currentsA, powerW: m.powerW)]
                        session = s
                    }
                    out.append(.persist(.started(s)))
                    out.append(.sessionStarted(s))
                }
            }
        }

        // 4. The lock.
        if config.lockRequired {
            let wanted = lockWanted
            if !wanted && (lockPhase == .locked || lockPhase == .locking) {
                lockPhase = .unlocking
                out.append(.unlock)
            } else if wanted && session != nil && (lockPhase == .unlocked || lockPhase == .unlocking) {
                lockPhase = .locking
                out.append(.lock)
            }
        }

        // 5. The pilot.
        let desiredPilot: PilotCommand = wantsOffer ? .offer(amps: offerableAmps) : .notReady
        if desiredPilot != pilotCommand {
            if case .offer(let amps) = desiredPilot {
                pwmWithdrawnAt = nil
                // The EV gets the grace period (longer than the 5 s IEC 61851-1 gives it) to
                // follow a lower offer before its draw counts as over-current.
                overCurrentReferenceAmps = amps
            } else if case .offer = pilotCommand, contactorClosed {
                pwmWithdrawnAt = now
            }
            pilotCommand = desiredPilot
            out.append(.setPilot(desiredPilot))
        }

        // 6. Close the contactor when everything allows it.
        if wantsEnergy && !contactorClosed && !faultPhases.keys.contains(where: { $0.blocksEnergy }) {
            contactorClosed = true
            overCurrentSince = nil
            out.append(.closeContactor)
        }

        // 7. Status and suspended periods.
        let (newStatus, newError) = computeStatus()
        if var s = session {
            let cause: SuspendedPeriod.Cause? = newStatus == .suspendedEV ? .ev : newStatus == .suspendedEVSE ? .evse : nil
            let open = s.suspendedPeriods.last.flatMap { $0.toUnixMs == nil ? $0.cause : nil }
            if open != cause {
                let t = unixMs(at: now)
                if open != nil, let last = s.suspendedPeriods.indices.last {
                    s.suspendedPeriods[last].toUnixMs = t
                    out.append(.persist(.suspensionEnded(sessionId: s.id, atUnixMs: t)))
                }
                if let cause {
                    let period = SuspendedPeriod(cause: cause, fromUnixMs: t)
                    s.suspendedPeriods.append(period)
                    out.append(.persist(.suspensionBegan(sessionId: s.id, period)))
                }
                session = s
            }
        }
        if newStatus != status || newError != errorKind {
            status = newStatus
            errorKind = newError
            out.append(.statusChanged(newStatus, newError))
        }
    }

    /// True while a stopping session, its contactor open, waits for the meter reading that
    /// gives its meter stop; asks for that reading the first time.
    private mutating func awaitingFinalReading(at now: MonotonicInstant, into out: inout [ConnectorCommand]) -> Bool {
        guard config.hasMeter, config.finalMeterReadingTimeout > .zero else { return false }
        guard let asked = finalReadingAskedAt else {
            finalReadingAskedAt = now
            finalReadingTaken = false
            out.append(.readMeterNow)
            return true
        }
        return !finalReadingTaken && now < asked + config.finalMeterReadingTimeout
    }

    private func computeStatus() -> (ConnectorStatus, ConnectorErrorKind?) {
        let error = activeFaults.first?.errorKind
        if hasBlockingFault { return (.faulted, error) }
        // A session that only waits for its final meter reading, the EV gone, shows what the
        // connector is about to be: the few milliseconds of that wait are no status of their own.
        let onlyReadingLeft = stopRequest != nil && finalReadingAskedAt != nil && !(pilot?.vehicleConnected ?? false)
        if session != nil && !onlyReadingLeft {
            if stopRequest != nil { return (.finishing, error) }
            if contactorClosed { return (.charging, error) }
            if pilot?.vehicleRequestsCharge ?? false { return (.suspendedEVSE, error) }
            if pilot == .b, !wantsOffer { return (.suspendedEVSE, error) }
            return (.suspendedEV, error)
        }
        if !operative { return (.unavailable, error) }
        if finishing { return (.finishing, error) }
        if (pilot?.vehicleConnected ?? false) || grant != nil || pendingAuthorization != nil { return (.preparing, error) }
        if reservation != nil { return (.reserved, error) }
        return (.available, error)
    }
}
