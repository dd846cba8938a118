import HAL

/// Load balancing: shares the station's current among the connectors.
///
/// A pure function, called every time something changes (EV plugged, meter sample, schedule
/// boundary, rotation timer). The rules, in order:
/// 1. Each connector's own cap: board rating, cable (PP) rating, EV maximum, its external
///    (smart-charging) limit; and give-back: an EV that, after a ramp-up grace period, draws
///    clearly less than it was offered keeps only its draw plus headroom (never below the
///    minimum), so the rest goes to the others. It can grow back by the headroom each round.
/// 2. The station's capacity per phase: the grid connection's fuse rating, what the grid meter
///    leaves of it (`gridCapacityAmps`) and the station-wide external limit. W limits become A
///    per phase with 230 V × the phases actually loaded. A station power budget
///    (`stationPowerLimitW`, the PV surplus) is a further limit on the sum of all sessions'
///    power, each counted on the phases it loads.
/// 3. Every session gets the 6 A minimum or nothing. When the station cannot give everyone
///    the minimum, sessions are admitted in rotation order: those that started a charging stint
///    less than `rotationInterval` ago, then those waiting (longest wait first), then those
///    whose stint is over (shortest stint first). So every waiting session gets its turn
///    within one rotation interval, and nobody is switched on and off faster than that.
/// 4. What is left is shared by progressive filling (max-min fair) per phase: single-phase
///    EVs only use capacity on their phase, so a 3-phase EV is not held back by them elsewhere.
/// 5. Results are rounded down to the PWM resolution, so no limit is exceeded by rounding.
///
/// Malformed numbers (NaN, infinite, negative) count as 0 A: the safe side.
public enum PowerAllocator {
    public static func allocate(_ input: AllocationInput) -> AllocationResult {
        let policy = input.policy
        let minimum = sane(policy.minimumAmps)
        let voltage = policy.nominalPhaseVoltage > 0 && policy.nominalPhaseVoltage.isFinite
            ? policy.nominalPhaseVoltage : ChargingLimit.nominalPhaseVoltage
        let eps = 1e-9

        // Station capacity per phase.
        let grid = sane(input.gridLimitAmps)
        var capacity: [Double] = input.grid == .threePhase ? [grid, grid, grid] : [grid, 0, 0]
        if let meterCapacity = input.gridCapacityAmps, meterCapacity.count == 3 {
            capacity = (0..<3).map { min(capacity[$0], sane(meterCapacity[$0])) }
        } else if input.gridCapacityAmps != nil {
            // A malformed capacity is no capacity: the safe side.
            capacity = [0, 0, 0]
        }
        let powerBudget = input.stationPowerLimitW.map(sane)
        if let ext = input.stationExternalLimit {
            let loaded = input.grid == .threePhase ? 3 : 1
            let a = sane(ext.ampsPerPhase(loadedPhases: loaded, nominalVoltage: voltage))
            capacity = capacity.map { min($0, a) }
        }

        var results: [ConnectorAllocation] = []
        results.reserveCapacity(input.connectors.count)
        // Indices into `results` of sessions that compete for a share, with their cap.
        var candidates: [Int] = []
        var ownCap: [Double] = []

        for c in input.connectors {
            let phaseUse: AllocationPhaseUse = input.grid == .singlePhase ? .singlePhase(.l1) : c.phaseUse
            var own = sane(c.boardMaxAmps)
            if let cable = c.cableMaxAmps { own = min(own, sane(cable)) }
            if let ev = c.evMaxAmps { own = min(own, sane(ev)) }
            if let cap = input.connectorCapAmps { own = min(own, sane(cap)) }
            if let ext = c.externalLimit {
                own = min(own, sane(ext.ampsPerPhase(loadedPhases: phaseUse.phases.count, nominalVoltage: voltage)))
            }
            if let since = c.chargingSince, input.now - since >= policy.giveBackGracePeriod,
               let measured = c.measuredAmps, measured.count == 3 {
                let draw = phaseUse.phases.map { sane(measured[$0.rawValue]) }.max() ?? 0
                let offered = sane(c.previousAllocationAmps)
                if offered > 0, draw < offered - policy.giveBackThresholdAmps {
                    own = min(own, max(minimum, draw + sane(policy.giveBackHeadroomAmps)))
                }
            }
            // A session that stops wanting energy keeps what it has had (a new session starts at zero
            // because the caller builds a fresh input for it).
            var r = ConnectorAllocation(connectorId: c.connectorId, amps: 0, decision: .idle,
                                        ownLimitAmps: own, phaseUse: phaseUse,
                                        chargingSince: nil, suspendedSince: nil,
                                        chargedTimeBeforeStint: c.chargedTimeBeforeStint + (c.chargingSince.map { input.now - $0 } ?? .zero))
            if !c.wantsEnergy {
                r.decision = .idle
            } else if own + eps < minimum || own <= 0 {
                r.decision = .limitedBelowMinimum
            } else {
                r.decision = .suspendedForSharing  // until admitted below
                r.chargingSince = c.chargingSince
                r.suspendedSince = c.suspendedSince
                r.chargedTimeBeforeStint = c.chargedTimeBeforeStint
                candidates.append(results.count)
                ownCap.append(own)
            }
            results.append(r)
        }

        // Admission in rotation order.
        let now = input.now
        // Ties go to the session that has had less energy time, then to the lower connector id.
        func rank(_ i: Int) -> (Int, Int64, Int64, Int) {
            let r = results[i]
            if let since = r.chargingSince {
                let stint = now - since
                // Shorter stints first in both charging tiers: the longest-charging session is
                // the first to give way.
                return (stint < policy.rotationInterval ? 0 : 2, stint.microseconds,
                        (r.chargedTimeBeforeStint + stint).microseconds, r.connectorId)
            }
            let waited = r.suspendedSince.map { now - $0 } ?? .zero
            return (1, -waited.microseconds, r.chargedTimeBeforeStint.microseconds, r.connectorId)
        }
        let order = candidates.indices.sorted { rank(candidates[$0]) < rank(candidates[$1]) }
        var used = [0.0, 0.0, 0.0]
        var usedW = 0.0
        var admitted: [Int] = []  // positions in `candidates`
        for k in order {
            let phases = results[candidates[k]].phaseUse.phases
            let minimumW = minimum * Double(phases.count) * voltage
            if phases.allSatisfy({ used[$0.rawValue] + minimum <= capacity[$0.rawValue] + eps }),
               powerBudget.map({ usedW + minimumW <= $0 + 1e-6 }) ?? true {
                for p in phases { used[p.rawValue] += minimum }
                usedW += minimumW
                admitted.append(k)
            }
        }

        // Progressive filling from the common minimum.
        var amps = Dictionary(uniqueKeysWithValues: admitted.map { ($0, minimum) })
        var frozen = Set<Int>()
        for _ in 0..<(4 * admitted.count + 8) {
            var load = [0.0, 0.0, 0.0]
            for k in admitted {
                for p in results[candidates[k]].phaseUse.phases { load[p.rawValue] += amps[k] ?? 0 }
            }
            let remaining = (0..<3).map { capacity[$0] - load[$0] }
            let remainingW = powerBudget.map { $0 - (0..<3).reduce(0) { $0 + load[$1] } * voltage }
            for k in admitted where !frozen.contains(k) {
                let a = amps[k] ?? 0
                if a >= ownCap[k] - eps || results[candidates[k]].phaseUse.phases.contains(where: { remaining[$0.rawValue] <= eps })
                    || (remainingW.map { $0 <= 1e-6 } ?? false) {
                    frozen.insert(k)
                }
            }
            let growing = admitted.filter { !frozen.contains($0) }
            if growing.isEmpty { break }
            var step = Double.infinity
            for p in 0..<3 {
                let n = growing.filter { results[candidates[$0]].phaseUse.phases.contains { $0.rawValue == p } }.count
                if n > 0 { step = min(step, remaining[p] / Double(n)) }
            }
            for k in growing { step = min(step, ownCap[k] - (amps[k] ?? 0)) }
            if let w = remainingW {
                let growingPhases = growing.reduce(0) { $0 + results[candidates[$1]].phaseUse.phases.count }
                if growingPhases > 0 { step = min(step, w / (voltage * Double(growingPhases))) }
            }
            if !(step > eps) { break }
            for k in growing { amps[k, default: 0] += step }
        }

        let stepsPerAmp = policy.resolutionAmps > 0 && policy.resolutionAmps.isFinite
            ? (1 / policy.resolutionAmps).rounded() : 10
        for k in admitted {
            let i = candidates[k]
            let raw = min(amps[k] ?? minimum, ownCap[k])
            let rounded = max(minimum, min((raw * stepsPerAmp + eps).rounded(.down) / stepsPerAmp, ownCap[k]))
            results[i].amps = rounded
            results[i].decision = .charging
            results[i].chargingSince = results[i].chargingSince ?? now
            results[i].suspendedSince = nil
        }
        for k in candidates.indices where !admitted.contains(k) {
            let i = candidates[k]
            if let since = results[i].chargingSince { results[i].chargedTimeBeforeStint = results[i].chargedTimeBeforeStint + (now - since) }
            results[i].chargingSince = nil
            results[i].suspendedSince = results[i].suspendedSince ?? now
        }

        var allocated = [0.0, 0.0, 0.0]
        for r in results { for p in r.phaseUse.phases { allocated[p.rawValue] += r.amps } }
        return AllocationResult(connectors: results, stationLimitAmps: capacity, allocatedAmps: allocated)
    }

    private static func sane(_ x: Double) -> Double { x.isFinite ? max(0, x) : 0 }
}

extension ChargingLimit {
    /// The current per phase this limit allows when the load really is on `loadedPhases`
    /// phases: A limits are per phase already; W are shared over the loaded phases.
    public func ampsPerPhase(loadedPhases: Int, nominalVoltage: Double = ChargingLimit.nominalPhaseVoltage) -> Double {
        switch unit {
        case .amps: return value
        case .watts: return value / (nominalVoltage * Double(min(3, max(1, loadedPhases))))
        }
    }
}
