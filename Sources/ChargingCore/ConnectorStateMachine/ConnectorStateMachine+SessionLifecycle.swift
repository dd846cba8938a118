import Drivers
import HAL

/// The session's start and end, and what is journaled on the way.
extension ConnectorStateMachine {
    /// Ends a stopping session once no energy flows and the meter was read after that.
    mutating func endStoppedSession(at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        guard case var .stopping(stopping) = phase, !contactorClosed else { return }
        if awaitingFinalReading(&stopping.finalReading, at: now, into: &out) {
            phase = .stopping(stopping)
            return
        }
        var s = stopping.session
        let stop = stopping.stop
        let meterStop = lastMeter?.energyWh ?? s.lastKnownEnergyWh
        if !s.isEnded, let last = s.suspendedPeriods.last, last.toUnixMs == nil {
            out.append(.persist(.suspensionEnded(sessionId: s.id, atUnixMs: unixMs(at: now))))
        }
        if s.end(reason: stop.reason, meterStopWh: meterStop, atUnixMs: unixMs(at: now),
                 stopIdToken: stop.idToken.map { $0.identifies(s.idToken) } == true ? nil : stop.idToken) {
            out.append(.persist(.ended(s)))
            out.append(.sessionEnded(s))
        }
        phase.end(stillPlugged: vehicleConnected)
        lastSampleAt = nil
    }

    /// True while the final meter reading of a stopping session, its contactor open, is still
    /// to come; asks for that reading the first time.
    private func awaitingFinalReading(_ reading: inout SessionPhase.FinalReading, at now: MonotonicInstant,
                                      into out: inout [ConnectorCommand]) -> Bool {
        guard config.hasMeter, config.finalMeterReadingTimeout > .zero else { return false }
        switch reading {
        case .notAsked:
            reading = .awaited(since: now)
            out.append(.readMeterNow)
            return true
        case let .awaited(since):
            return now < since + config.finalMeterReadingTimeout
        case .taken:
            return false
        }
    }

    /// A stop still under way is kept on disk: a restart carries it out instead of resuming.
    mutating func journalStop(into out: inout [ConnectorCommand]) {
        guard case var .stopping(stopping) = phase, !stopping.journaled else { return }
        stopping.journaled = true
        stopping.session.requestedStop = stopping.stop
        phase = .stopping(stopping)
        out.append(.persist(.stopRequested(sessionId: stopping.session.id, stopping.stop)))
    }

    /// Starts a session once authorized (or free vend), plugged in and locked; asks for the
    /// lock first where the board has one.
    mutating func startAuthorizedSession(at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        guard case .idle = phase, operative, !hasBlockingFault, vehicleConnected else { return }
        if phase.grant == nil, config.freeVend, !phase.lastSessionStillPlugged {
            phase.grant(Grant(idToken: config.freeVendIdToken, parentIdToken: nil, at: now, reason: .freeVend))
        }
        guard let g = phase.grant, !config.hasMeter || lastMeter != nil else { return }
        if config.lockRequired && lockPhase != .locked {
            if lockPhase != .locking {
                lockPhase = .locking
                out.append(.lock)
            }
            return
        }
        let prelude = phase.prelude
        var s = Session(id: prelude?.id ?? idGenerator.next(), connectorId: connectorId, idToken: g.idToken,
                        parentIdToken: g.parentIdToken, startReason: g.reason,
                        meterStartWh: lastMeter?.energyWh ?? 0, startedAtUnixMs: unixMs(at: now))
        s.cableMaxCurrentA = cableAmps
        s.preludeCause = prelude?.cause
        if let r = reservation, Self.matches(r, g.idToken, g.parentIdToken) {
            s.reservationId = r.id
            reservation = nil
            out.append(.reservationEnded(id: r.id, .used))
        }
        if let m = lastMeter {
            s.sampledValues = [SampledValue(atUnixMs: s.startedAtUnixMs, energyWh: m.energyWh,
                                            currentsA: m.currentsA, powerW: m.powerW)]
        }
        phase.start(s)
        lastSampleAt = now
        out.append(.persist(.started(s)))
        out.append(.sessionStarted(s))
    }

    /// Begins or ends the prelude of the next session (see `SessionPrelude`), once the session
    /// did not start in this turn. It begins when the EV is plugged in (a new plug-in) or a token
    /// is authorized with the EV away, on a connector that could charge; it ends when neither
    /// the EV nor a grant holds it any more (only once the pilot was read: a restarted station
    /// does not end it before it knows), or at once for `preludeEndReason`.
    mutating func updatePrelude(at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        defer { preludeEndReason = nil }
        guard case .idle = phase else { return }
        if let p = phase.prelude {
            let reason: StopReason
            if let explicit = preludeEndReason {
                reason = explicit
            } else if pilot != nil, !vehicleConnected, phase.grant == nil {
                // The EV left before a token came, or the token's grant ran out before the EV came.
                reason = p.cause == .evConnected ? .evDisconnected : .timeout
            } else {
                return
            }
            phase.withdrawGrant()
            phase.setPrelude(nil, stillPlugged: vehicleConnected)
            out.append(.persist(.preludeEnded(p, SessionPreludeEnd(reason: reason, atUnixMs: unixMs(at: now),
                                                                   meterWh: lastMeter?.energyWh))))
            return
        }
        guard operative, !hasBlockingFault else { return }
        let prelude: SessionPrelude
        if vehicleConnected && !phase.lastSessionStillPlugged && !phase.preludeSpentOnPlugIn {
            prelude = SessionPrelude(id: idGenerator.next(), connectorId: connectorId, cause: .evConnected,
                                     beganAtUnixMs: unixMs(at: now), meterWh: lastMeter?.energyWh)
        } else if let g = phase.grant, !vehicleConnected {
            prelude = SessionPrelude(id: idGenerator.next(), connectorId: connectorId, cause: .authorized,
                                     idToken: g.idToken, parentIdToken: g.parentIdToken, startReason: g.reason,
                                     beganAtUnixMs: unixMs(at: now), meterWh: lastMeter?.energyWh)
        } else {
            return
        }
        phase.setPrelude(prelude)
        out.append(.persist(.preludeBegan(prelude)))
    }

    /// Opens or closes the session's suspended period to match the status about to be reported.
    mutating func recordSuspension(for status: ConnectorStatus, at now: MonotonicInstant,
                                   into out: inout [ConnectorCommand]) {
        guard var s = session else { return }
        let cause: SuspendedPeriod.Cause? = status == .suspendedEV ? .ev : status == .suspendedEVSE ? .evse : nil
        let open = s.suspendedPeriods.last.flatMap { $0.toUnixMs == nil ? $0.cause : nil }
        guard open != cause else { return }
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
        let updated = s
        phase.updateSession { $0 = updated }
    }
}
