import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage
import Synchronization

/// Power: the grid connection shared among the sessions that want energy.
extension Station {
    // MARK: - Power

    /// Shares the grid connection among the sessions that want energy and tells each machine
    /// its share (through the PWM rate limiter: reductions at once, increases paced).
    func reallocate(at now: MonotonicInstant) {
        let board = hardware.board
        let inputs = connectors.map { c -> AllocationConnectorInput in
            let m = c.machine
            let wants = m.session != nil && (m.pilot?.vehicleConnected ?? false)
            return AllocationConnectorInput(
                connectorId: c.id, wantsEnergy: wants, boardMaxAmps: c.hw.description.ceilingAmps,
                cableMaxAmps: c.cableAmps,
                phaseUse: phaseUse(c),
                measuredAmps: m.contactorClosed ? c.lastMeterSample.flatMap { $0.currentsA.count == 3 ? $0.currentsA : nil } : nil,
                externalLimit: smartChargingLimit(connector: c.id, session: m.session),
                previousAllocationAmps: c.allocation?.amps ?? 0,
                chargingSince: c.allocation?.chargingSince, suspendedSince: c.allocation?.suspendedSince)
        }
        // With a grid meter: what the rest of the building leaves under the fuse, the PV budget
        // of the charging mode, or the fallback current (Station+Grid.swift).
        let limits = gridLimits(at: now)
        let input = AllocationInput(now: now, grid: board.grid.phases == 1 ? .singlePhase : .threePhase,
                                    gridLimitAmps: board.grid.maxCurrentAmps,
                                    stationExternalLimit: smartChargingLimit(connector: 0, session: nil),
                                    gridCapacityAmps: limits?.phaseCapacityAmps, stationPowerLimitW: limits?.powerLimitW,
                                    connectorCapAmps: limits?.connectorCapAmps, connectors: inputs)
        var result = PowerAllocator.allocate(input)
        // A connector changing phases is paused (offer 0 A) until its relay has switched and settled.
        let held = steerPhaseSwitches(limits: limits, wanting: inputs.filter(\.wantsEnergy).map(\.connectorId), at: now)
        for i in result.connectors.indices where held.contains(result.connectors[i].connectorId) {
            result.connectors[i].amps = 0
        }
        // Idle connectors stay out of the rate limiter: the first offer of a session is a
        // start (x1 → x2), not a change the EV has to follow, so it is not held back by the
        // connector's own pacing (the settling after another connector's reduction still applies).
        let paced = result.connectors.filter { a in
            inputs.first { $0.connectorId == a.connectorId }?.wantsEnergy == true || (rateLimiter.signalled[a.connectorId] ?? 0) > 0
        }
        let signals = rateLimiter.apply(targets: paced.map { ($0.connectorId, $0.amps) }, now: now)
        let unix = wallClock.unixMilliseconds()
        eventsSinceAllocation = 0
        // Once a second while energy is offered (profile limits move with time); with nothing to
        // share, every 10 s: every change (a plug-in, a card, a request, a reading) allocates at
        // once anyway, and the loop need not wake for a round that changes nothing.
        let sharing = inputs.contains { $0.wantsEnergy } || rateLimiter.signalled.values.contains { $0 > 0 }
        var next = now + .seconds(Int64(sharing ? 1 : 10))
        for s in signals { if let due = s.nextChangeAllowedAt, due < next { next = due } }
        if let due = grid.manager?.nextPVDecisionAt, due > now, due < next { next = due }
        for c in connectors {
            guard let job = c.phaseSwitchJob else { continue }
            let due = job.since + (job.step == .settling ? Self.phaseSwitchSettleTime : Self.phaseSwitchPauseLimit)
            if due > now, due < next { next = due }
        }
        nextAllocationAt = next
        for c in connectors {
            guard let a = result.allocation(for: c.id) else { continue }
            let previous = c.allocation?.amps
            c.allocation = a
            let amps = signals.first { $0.connectorId == c.id }?.amps ?? a.amps
            if previous != a.amps { logger.debug("c\(c.id): allocation \(a.amps) A (\(a.decision))") }
            if amps != c.signalledAmps {
                c.signalledAmps = amps
                dispatch(c, .allocatedCurrent(amps: amps), at: now, unixMs: unix)
            }
            reportLocalLimit(c, a, wantsEnergy: inputs.first { $0.connectorId == c.id }?.wantsEnergy ?? false)
        }
    }

    /// A limit from inside the station (OCPP 2.0.1 NotifyChargingLimit, source EMS): the share
    /// a session gets is below its own cap (board, cable, EV, the CSMS's profiles) because the
    /// station shares the grid connection, follows the grid meter or PV. A session its own
    /// limits hold below the minimum is not limited by the station.
    private func reportLocalLimit(_ c: Connector, _ a: ConnectorAllocation, wantsEnergy: Bool) {
        let limited = wantsEnergy && (a.decision == .charging || a.decision == .suspendedForSharing)
            && a.amps < a.ownLimitAmps - 0.5
        let amps: Double? = limited ? max(0, a.amps).rounded(.down) : nil
        guard amps != c.reportedLocalLimitAmps else { return }
        c.reportedLocalLimitAmps = amps
        localLimitObserver?(c.id, amps)
    }
}
