import Drivers
import HAL

extension ConnectorStateMachine {
    // MARK: - Derived conditions

    var lockSatisfied: Bool { !config.lockRequired || lockPhase == .locked }

    var evRequestsEnergy: Bool {
        pilot == .c || (pilot == .d && config.ventilationAvailable)
    }

    /// The current the pilot may offer now, before the minimum check.
    var offerableAmps: Double {
        min(config.maximumCurrent, cableAmps ?? 0, allocatedAmps ?? config.maximumCurrent)
    }

    var wantsOffer: Bool {
        phase.isRunning && session?.energyWithheld(atMeterWh: lastMeter?.energyWh) != true && !hasBlockingFault && vehicleConnected
            && lockSatisfied && cableAmps != nil && offerableAmps >= config.minimumCurrent
    }

    var wantsEnergy: Bool { wantsOffer && evRequestsEnergy }

    var lockWanted: Bool {
        guard config.lockRequired else { return false }
        // Never release a plug that may be live.
        if contactorClosed || faults.contains(.contactor(.welded)) { return true }
        if session != nil {
            // A session kept open after the EV side was unplugged.
            if pilot == .a && !config.stopOnEVSideDisconnect { return !config.unlockOnEVSideDisconnect }
            return true
        }
        if phase.lockHeldFor != nil { return true }
        return phase.grant != nil && vehicleConnected && operative && !hasBlockingFault
    }

    // MARK: - Reconcile

    /// Brings the outputs in line with the state `apply` left, in the order safety needs.
    mutating func reconcile(at now: MonotonicInstant, into out: inout [ConnectorCommand]) {
        // Timers.
        if let g = phase.grant, !vehicleConnected, now >= g.at + config.connectionTimeout {
            phase.withdrawGrant()
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

        // 2. End the session once no energy flows and the meter was read after that; a stop
        // still under way is kept on disk.
        endStoppedSession(at: now, into: &out)
        journalStop(into: &out)
        if session == nil, operative != requestedOperative { operative = requestedOperative }
        if !operative { phase.withdrawGrant() }

        // 3. Start a session once authorized (or free vend), plugged in, locked; else begin or
        // end the next session's prelude.
        startAuthorizedSession(at: now, into: &out)
        updatePrelude(at: now, into: &out)

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
        if wantsEnergy && !contactorClosed && !faults.blocksEnergy {
            contactorClosed = true
            overCurrentSince = nil
            out.append(.closeContactor)
        }

        // 7. Status and suspended periods.
        let (newStatus, newError) = computeStatus()
        recordSuspension(for: newStatus, at: now, into: &out)
        if newStatus != status || newError != errorKind {
            status = newStatus
            errorKind = newError
            out.append(.statusChanged(newStatus, newError))
        }
    }
}
