import TestSupport
import HAL
import Testing
@testable import ChargingCore


private func seconds(_ s: Int64) -> MonotonicInstant { MonotonicInstant(microseconds: UInt64(s) * 1_000_000) }

private func randomInput(_ rng: inout SeededGenerator) -> AllocationInput {
    let now = Int64.random(in: 3_600...100_000, using: &rng)
    let grid: GridConnection = Int.random(in: 0..<5, using: &rng) == 0 ? .singlePhase : .threePhase
    let gridLimit = [0, 5, 6, 10, 16, 20, 25, 32, 40, 63, 80, 125].randomElement(using: &rng) ?? 32
    func randomLimit() -> ChargingLimit? {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .amps(Double(Int.random(in: 0...70, using: &rng)), phases: Int.random(in: 1...3, using: &rng))
        case 1: return .watts(Double(Int.random(in: 0...45_000, using: &rng)), phases: Int.random(in: 1...3, using: &rng))
        default: return nil
        }
    }
    var connectors: [AllocationConnectorInput] = []
    for id in 1...Int.random(in: 1...8, using: &rng) {
        let phaseUse: AllocationPhaseUse
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: phaseUse = .singlePhase(.l1)
        case 1: phaseUse = .singlePhase(.l2)
        case 2: phaseUse = .singlePhase(.l3)
        default: phaseUse = .threePhase
        }
        let charging = Bool.random(using: &rng)
        let since = seconds(now - Int64.random(in: 0...3_600, using: &rng))
        let measured: [Double]? = Bool.random(using: &rng)
            ? (0..<3).map { _ in Double(Int.random(in: 0...400, using: &rng)) / 10 } : nil
        connectors.append(AllocationConnectorInput(
            connectorId: id,
            wantsEnergy: Int.random(in: 0..<4, using: &rng) != 0,
            boardMaxAmps: [0, 6, 13, 16, 20, 32, 40, 63].randomElement(using: &rng) ?? 32,
            cableMaxAmps: [nil, 13, 20, 32, 63].randomElement(using: &rng) ?? nil,
            evMaxAmps: Bool.random(using: &rng) ? Double(Int.random(in: 0...64, using: &rng)) : nil,
            phaseUse: phaseUse,
            measuredAmps: measured,
            externalLimit: randomLimit(),
            previousAllocationAmps: Double(Int.random(in: 0...63, using: &rng)),
            chargingSince: charging ? since : nil,
            suspendedSince: !charging && Bool.random(using: &rng) ? since : nil))
    }
    return AllocationInput(now: seconds(now), grid: grid, gridLimitAmps: Double(gridLimit),
                           stationExternalLimit: randomLimit(), connectors: connectors)
}

@Suite("Power allocation: properties over random stations")
struct PowerAllocationPropertyTests {
    static let eps = 1e-6

    @Test func neverAboveAnyLimitAndEverySessionGetsTheMinimumOrNothing() {
        var rng = SeededGenerator(seed: 0x5EED_0001)
        var suspendedSeen = 0, chargingSeen = 0
        for _ in 0..<5_000 {
            let input = randomInput(&rng)
            let result = PowerAllocator.allocate(input)
            let policy = input.policy
            let stationPhases = input.grid == .threePhase ? 3 : 1
            var capacity = input.grid == .threePhase ? [input.gridLimitAmps, input.gridLimitAmps, input.gridLimitAmps]
                : [input.gridLimitAmps, 0, 0]
            if let ext = input.stationExternalLimit {
                capacity = capacity.map { min($0, ext.ampsPerPhase(loadedPhases: stationPhases)) }
            }
            #expect(result.connectors.count == input.connectors.count)
            var sums = [0.0, 0.0, 0.0]
            for (c, r) in zip(input.connectors, result.connectors) {
                #expect(r.connectorId == c.connectorId)
                let phases = input.grid == .singlePhase ? [ElectricalPhase.l1] : c.phaseUse.phases
                for p in phases { sums[p.rawValue] += r.amps }
                #expect(r.amps <= c.boardMaxAmps + Self.eps)
                if let cable = c.cableMaxAmps { #expect(r.amps <= cable + Self.eps) }
                if let ev = c.evMaxAmps { #expect(r.amps <= ev + Self.eps) }
                if let ext = c.externalLimit { #expect(r.amps <= ext.ampsPerPhase(loadedPhases: phases.count) + Self.eps) }
                #expect(r.amps == 0 || r.amps >= policy.minimumAmps - Self.eps)
                if !c.wantsEnergy { #expect(r.amps == 0 && r.decision == .idle) }
                switch r.decision {
                case .charging:
                    chargingSeen += 1
                    #expect(r.amps >= policy.minimumAmps - Self.eps)
                    #expect(r.chargingSince != nil && r.suspendedSince == nil)
                case .suspendedForSharing:
                    suspendedSeen += 1
                    #expect(r.amps == 0 && r.suspendedSince != nil && r.chargingSince == nil)
                case .limitedBelowMinimum:
                    #expect(r.amps == 0 && r.ownLimitAmps < policy.minimumAmps)
                case .idle:
                    #expect(r.amps == 0)
                }
            }
            for p in 0..<3 {
                #expect(sums[p] <= capacity[p] + Self.eps, "phase \(p + 1): \(sums[p]) A > \(capacity[p]) A")
                #expect(abs(sums[p] - result.allocatedAmps[p]) < Self.eps)
            }
        }
        // The generator must exercise both paths, or the properties above prove little.
        #expect(suspendedSeen > 500)
        #expect(chargingSeen > 5_000)
    }

    /// Nobody is suspended while there would be room for them at the minimum, and nobody is
    /// held below another session on a shared bottleneck (max-min fairness within resolution).
    @Test func suspensionOnlyWhenNeededAndSharesAreMaxMinFair() {
        var rng = SeededGenerator(seed: 0x5EED_0002)
        let res = 0.1
        for _ in 0..<5_000 {
            let input = randomInput(&rng)
            let result = PowerAllocator.allocate(input)
            let min = input.policy.minimumAmps
            let capacity = result.stationLimitAmps
            let charging = result.connectors.filter { $0.decision == .charging }
            func onPhase(_ p: ElectricalPhase) -> [ConnectorAllocation] { charging.filter { $0.phaseUse.phases.contains(p) } }
            for s in result.connectors where s.decision == .suspendedForSharing {
                let blocked = s.phaseUse.phases.contains { p in Double(onPhase(p).count + 1) * min > capacity[p.rawValue] + 1e-9 }
                #expect(blocked, "connector \(s.connectorId) suspended although every phase had room")
            }
            for c in charging where c.amps < c.ownLimitAmps - res - Self.eps {
                let bottleneck = c.phaseUse.phases.contains { p in
                    let others = onPhase(p)
                    let saturated = result.allocatedAmps[p.rawValue] >= capacity[p.rawValue] - res * Double(others.count) - Self.eps
                    let highest = others.map(\.amps).max() ?? 0
                    return saturated && c.amps >= highest - res - Self.eps
                }
                #expect(bottleneck, "connector \(c.connectorId) at \(c.amps) A below its cap without a fair bottleneck")
            }
        }
    }

    @Test func sameInputSameResult() {
        var rng = SeededGenerator(seed: 0x5EED_0003)
        for _ in 0..<500 {
            let input = randomInput(&rng)
            #expect(PowerAllocator.allocate(input) == PowerAllocator.allocate(input))
        }
    }

    /// Stations with more sessions than minimum shares, walked through three hours in one-minute
    /// steps with the since-values fed back: everybody gets turns, nobody waits much longer than
    /// the rotation needs, and charging time is shared about evenly.
    @Test func rotationIsFairOverTime() {
        var rng = SeededGenerator(seed: 0x5EED_0004)
        let interval: Int64 = 15 * 60
        let policy = AllocationPolicy(rotationInterval: .seconds(interval))
        for _ in 0..<40 {
            let sessions = Int.random(in: 2...8, using: &rng)
            let slots = Int.random(in: 1..<sessions, using: &rng)
            let grid = Double(slots) * 6 + Double(Int.random(in: 0...5, using: &rng))
            var connectors = (1...sessions).map { AllocationConnectorInput(connectorId: $0, wantsEnergy: true, boardMaxAmps: 32) }
            var chargedSeconds = [Int: Int64]()
            var waitingSince = [Int: Int64]()
            var longestWait: Int64 = 0
            let step: Int64 = 60
            let total: Int64 = 3 * 3_600
            var t: Int64 = 0
            while t < total {
                let r = PowerAllocator.allocate(AllocationInput(now: seconds(t), gridLimitAmps: grid, connectors: connectors, policy: policy))
                #expect(r.connectors.filter { $0.decision == .charging }.count == slots)
                for (i, a) in r.connectors.enumerated() {
                    connectors[i].carryOver(from: a)
                    if a.decision == .charging {
                        chargedSeconds[a.connectorId, default: 0] += step
                        waitingSince[a.connectorId] = nil
                    } else {
                        let since = waitingSince[a.connectorId] ?? t
                        waitingSince[a.connectorId] = since
                        longestWait = max(longestWait, t + step - since)
                    }
                }
                t += step
            }
            let rounds = Int64((sessions - slots + slots - 1) / slots)
            #expect(longestWait <= rounds * interval + step, "\(sessions) sessions, \(slots) slots: waited \(longestWait) s")
            // Turns come in whole rotation intervals, so shares differ by at most one of them.
            let charged = (1...sessions).map { chargedSeconds[$0] ?? 0 }
            let least = charged.min() ?? 0, most = charged.max() ?? 0
            #expect(least > 0)
            #expect(most - least <= interval + step, "\(sessions) sessions, \(slots) slots: charged \(charged)")
            #expect(charged.reduce(0, +) == total * Int64(slots))
        }
    }
}
