import Drivers
import HAL

extension ConnectorStateMachine {
    typealias StopRequest = RequestedStop
    typealias Grant = SessionPhase.Grant

    /// What one event changes, before `reconcile` turns the new state into commands.
    mutating func apply(_ event: ConnectorEvent, at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        switch event {
        case let .pilotChanged(state):
            pilot = state
            if state == .e || (state == .f && pilotCommand != .stateF) {
                raise(.pilot)
            } else {
                faults.sourceCleared(.pilot)
            }
            if state == .a {
                faults.vehicleUnplugged()
                overCurrentSince = nil
                phase.vehicleUnplugged(stop: config.stopOnEVSideDisconnect ? StopRequest(reason: .evDisconnected) : nil,
                                       holdLock: !config.unlockOnEVSideDisconnect)
            }

        case let .cableRatingChanged(amps):
            if config.fixedCableAmps == nil {
                if let amps, amps.isFinite, amps > 0 { cableAmps = amps } else { cableAmps = nil }
            }

        case .lockConfirmed:
            lockPhase = .locked
            faults.lockConfirmed()

        case .unlockConfirmed:
            lockPhase = .unlocked

        case let .contactorFault(kind):
            raise(.contactor(kind))

        case let .faultRaised(fault):
            raise(fault)

        case let .faultCleared(fault):
            if faults.sourceCleared(fault) { out.append(.runRCDSelfTest) }

        case .clearFault:
            if faults.clearedByPerson() { out.append(.runRCDSelfTest) }

        case let .rcdSelfTestFinished(passed):
            if let latched = faults.selfTestFinished(passed: passed) { faultLatched(latched) }

        case let .authorizationRequested(token):
            if let s = session {
                // The same identifier, whatever kind it arrived as: a card stops the session a
                // remote start opened for its idTag.
                if token.identifies(s.idToken) {
                    phase.requestStop(StopRequest(reason: .local, idToken: token))
                } else {
                    phase.beginAuthorizing(token)
                    out.append(.authorize(token))
                }
            } else if let held = phase.lockHeldFor, held.identifies(token) {
                phase.releaseHeldLock()
            } else if !operative || hasBlockingFault || config.freeVend {
                break
            } else {
                phase.beginAuthorizing(token)
                out.append(.authorize(token))
            }

        case let .authorizationResult(token, info):
            guard phase.takeAnswer(for: token) else { break }
            let accepted = info.status == .accepted
            if let s = session {
                if accepted, let parent = info.parentIdToken, let sessionParent = s.parentIdToken, parent.identifies(sessionParent) {
                    phase.requestStop(StopRequest(reason: .local, idToken: token))
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
                phase.grant(Grant(idToken: token, parentIdToken: info.parentIdToken, at: now, reason: .local))
            }

        case let .remoteStart(token, parent):
            guard takesRemoteStart(token, parentIdToken: parent) else { break }
            phase.grant(Grant(idToken: token, parentIdToken: parent, at: now, reason: .remote))

        case let .stopRequested(reason):
            if session != nil {
                phase.requestStop(StopRequest(reason: reason))
            } else {
                phase.forgetAuthorizations()
                if phase.prelude != nil { preludeEndReason = reason }
            }

        case let .deauthorized(allowance):
            if let s = session, !s.deauthorized {
                // MaxEnergyOnInvalidId counts from the refusal, on the meter's register.
                let limit = allowance > 0 && allowance.isFinite ? (lastMeter?.energyWh ?? s.lastKnownEnergyWh) + allowance : nil
                phase.updateSession {
                    $0.deauthorized = true
                    $0.deauthorizedEnergyLimitWh = limit
                }
                out.append(.persist(.deauthorized(sessionId: s.id, energyLimitWh: limit)))
            }

        case .unlockRequested:
            phase.releaseHeldLock()
            if session != nil {
                phase.requestStop(StopRequest(reason: .unlockCommand))
            } else {
                phase.withdrawGrant()
                if phase.prelude != nil { preludeEndReason = .unlockCommand }
                if config.lockRequired && !faults.contains(.contactor(.welded)) {
                    // Unlock even when we believe it is unlocked: the operator asks because
                    // the position is in doubt.
                    out.append(.unlock)
                    lockPhase = .unlocking
                }
            }

        case let .meterSample(sample):
            guard sample.energyWh.isFinite, sample.currentsA.allSatisfy(\.isFinite) else { break }
            lastMeter = sample
            phase.meterRead(at: sample.readAt ?? now)
            if contactorClosed, let reference = overCurrentReferenceAmps,
               sample.maximumCurrentA > reference + max(config.overCurrentMarginAmps, reference * config.overCurrentMarginRatio) {
                if overCurrentSince == nil { overCurrentSince = now }
            } else {
                overCurrentSince = nil
            }
            if let s = session, lastSampleAt.map({ now - $0 >= config.sampleInterval }) ?? true {
                lastSampleAt = now
                let value = SampledValue(atUnixMs: unixMs(at: now), energyWh: sample.energyWh,
                                         currentsA: sample.currentsA, powerW: sample.powerW)
                let maxSampledValues = config.maxSampledValues
                phase.updateSession { s in
                    s.sampledValues.append(value)
                    // The first value is the start reading: it stays.
                    if s.sampledValues.count > maxSampledValues { s.sampledValues.remove(at: 1) }
                }
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
                phase.forgetAuthorizations()
                if session == nil, phase.prelude != nil { preludeEndReason = .other }
                if let r = reservation {
                    reservation = nil
                    out.append(.reservationEnded(id: r.id, .unavailable))
                }
            }

        case let .reserve(r):
            let answer: ReservationAnswer
            if !operative { answer = .unavailable }
            else if hasBlockingFault { answer = .faulted }
            else if session != nil || phase.lastSessionStillPlugged || phase.grant != nil || phase.tokenBeingAuthorized != nil
                        || vehicleConnected || (reservation.map { $0.id != r.id } ?? false) {
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

    /// Latches `fault` and, if it blocks energy, ends what it must.
    mutating func raise(_ fault: ConnectorFault) {
        guard faults.raise(fault) else { return }
        faultLatched(fault)
    }

    /// A fault that blocks energy takes back every authorization and stops the open session:
    /// a session never resumes on its own after a safety event.
    private mutating func faultLatched(_ fault: ConnectorFault) {
        guard fault.blocksEnergy else { return }
        phase.forgetAuthorizations()
        let reason: StopReason
        switch fault {
        case .input(.emergencyStop): reason = .emergencyStop
        case .input(.rcd), .input(.dcResidual): reason = .groundFault
        case .overCurrent: reason = .overcurrentFault
        default: reason = .other
        }
        phase.requestStop(StopRequest(reason: reason))
        if phase.prelude != nil { preludeEndReason = reason }
    }
}
