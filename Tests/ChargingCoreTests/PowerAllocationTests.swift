import HAL
import Testing
@testable import ChargingCore

private func at(_ seconds: Int64) -> MonotonicInstant { MonotonicInstant(microseconds: UInt64(seconds) * 1_000_000) }

private func active(_ id: Int, max: Double = 32, phases: AllocationPhaseUse = .threePhase,
                    charging: Int64? = nil, suspended: Int64? = nil) -> AllocationConnectorInput {
    AllocationConnectorInput(connectorId: id, wantsEnergy: true, boardMaxAmps: max, phaseUse: phases,
                             chargingSince: charging.map(at), suspendedSince: suspended.map(at))
}

@Suite("Power allocation: cases")
struct PowerAllocationTests {
    @Test func singleSessionGetsMinOfAllItsLimits() {
        var c = active(1, max: 32)
        c.cableMaxAmps = 20
        c.evMaxAmps = 25
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, connectors: [c]))
        #expect(r.allocation(for: 1)?.amps == 20)
        #expect(r.allocation(for: 1)?.decision == .charging)
        #expect(r.allocation(for: 1)?.chargingSince == at(0))
    }

    @Test func idleConnectorGetsNothing() {
        let c = AllocationConnectorInput(connectorId: 1, wantsEnergy: false, boardMaxAmps: 32)
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, connectors: [c]))
        #expect(r.allocation(for: 1)?.amps == 0)
        #expect(r.allocation(for: 1)?.decision == .idle)
    }

    @Test func fairShareSplitsTheGridEvenly() {
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 40, connectors: [active(1), active(2)]))
        #expect(r.allocation(for: 1)?.amps == 20)
        #expect(r.allocation(for: 2)?.amps == 20)
        #expect(r.allocatedAmps == [40, 40, 40])
    }

    @Test func cappedSessionLeavesTheRestToOthers() {
        var small = active(1)
        small.evMaxAmps = 10
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 40, connectors: [small, active(2)]))
        #expect(r.allocation(for: 1)?.amps == 10)
        #expect(r.allocation(for: 2)?.amps == 30)
    }

    @Test func externalLimitInWattsBecomesAmpsPerPhase() {
        var c = active(1)
        c.externalLimit = .watts(11_040, phases: 3)  // 16 A × 230 V × 3
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, connectors: [c]))
        #expect(r.allocation(for: 1)?.amps == 16)
        // A single-phase EV on the same W limit may draw it all on one phase (board permitting).
        var one = active(2, max: 63, phases: .singlePhase(.l2))
        one.externalLimit = .watts(7_360, phases: 3)
        let r1 = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, connectors: [one]))
        #expect(r1.allocation(for: 2)?.amps == 32)
    }

    @Test func stationExternalLimitCapsTheSum() {
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, stationExternalLimit: .amps(24),
                                                        connectors: [active(1), active(2)]))
        #expect(r.stationLimitAmps == [24, 24, 24])
        #expect(r.allocation(for: 1)?.amps == 12)
        #expect(r.allocation(for: 2)?.amps == 12)
    }

    @Test func externalLimitBelowMinimumGivesZero() {
        var c = active(1)
        c.externalLimit = .amps(4)
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 63, connectors: [c]))
        #expect(r.allocation(for: 1)?.amps == 0)
        #expect(r.allocation(for: 1)?.decision == .limitedBelowMinimum)
    }

    @Test func surplusSessionIsSuspendedWhenSixAmpsEachDoNotFit() {
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 16, connectors: [active(1), active(2), active(3)]))
        let charging = r.connectors.filter { $0.decision == .charging }
        let suspended = r.connectors.filter { $0.decision == .suspendedForSharing }
        #expect(charging.count == 2)
        #expect(suspended.count == 1)
        #expect(charging.allSatisfy { $0.amps == 8 })
        #expect(suspended.allSatisfy { $0.amps == 0 && $0.suspendedSince == at(0) })
    }

    @Test func singlePhaseEVsOnDifferentPhasesDoNotCompete() {
        // 16 A grid: three 1-phase EVs on three phases each get 16 A.
        let cs = [active(1, phases: .singlePhase(.l1)), active(2, phases: .singlePhase(.l2)), active(3, phases: .singlePhase(.l3))]
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 16, connectors: cs))
        #expect(r.connectors.allSatisfy { $0.amps == 16 })
    }

    @Test func mixedPhasesAreAccountedPerPhase() {
        // L1 holds a 1-phase EV and a 3-phase EV; L2/L3 only the 3-phase one.
        let cs = [active(1, phases: .singlePhase(.l1)), active(2, phases: .threePhase)]
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: 20, connectors: cs))
        #expect(r.allocation(for: 1)?.amps == 10)
        #expect(r.allocation(for: 2)?.amps == 10)
        #expect(r.allocatedAmps == [20, 10, 10])
    }

    @Test func singlePhaseGridPutsEveryoneOnL1() {
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), grid: .singlePhase, gridLimitAmps: 32,
                                                        connectors: [active(1), active(2)]))
        #expect(r.allocation(for: 1)?.phaseUse == .singlePhase(.l1))
        #expect(r.allocatedAmps == [32, 0, 0])
        #expect(r.stationLimitAmps == [32, 0, 0])
    }

    @Test func evDrawingLessGivesBackAfterTheGracePeriod() {
        var lazy = active(1, charging: 0)
        lazy.previousAllocationAmps = 20
        lazy.measuredAmps = [8, 8, 8]
        let busy = active(2, charging: 0)
        // Within the grace period nothing is taken back.
        let early = PowerAllocator.allocate(AllocationInput(now: at(30), gridLimitAmps: 40, connectors: [lazy, busy]))
        #expect(early.allocation(for: 1)?.amps == 20)
        let later = PowerAllocator.allocate(AllocationInput(now: at(120), gridLimitAmps: 40, connectors: [lazy, busy]))
        #expect(later.allocation(for: 1)?.amps == 10)   // draw 8 + 2 headroom
        #expect(later.allocation(for: 2)?.amps == 30)   // the rest goes to the busy one
    }

    @Test func giveBackNeverGoesBelowTheMinimum() {
        var idleEV = active(1, charging: 0)
        idleEV.previousAllocationAmps = 16
        idleEV.measuredAmps = [0, 0, 0]
        let r = PowerAllocator.allocate(AllocationInput(now: at(600), gridLimitAmps: 32, connectors: [idleEV, active(2, charging: 0)]))
        #expect(r.allocation(for: 1)?.amps == 6)
        #expect(r.allocation(for: 2)?.amps == 26)
    }

    @Test func rotationHandsTheSlotToTheWaitingSessionAfterTheInterval() {
        let policy = AllocationPolicy(rotationInterval: .seconds(Int64(900)))
        // Room for one session only.
        var a = active(1, charging: 0)
        var b = active(2, suspended: 0)
        let before = PowerAllocator.allocate(AllocationInput(now: at(899), gridLimitAmps: 10, connectors: [a, b], policy: policy))
        #expect(before.allocation(for: 1)?.decision == .charging)
        #expect(before.allocation(for: 2)?.decision == .suspendedForSharing)
        let after = PowerAllocator.allocate(AllocationInput(now: at(900), gridLimitAmps: 10, connectors: [a, b], policy: policy))
        #expect(after.allocation(for: 1)?.decision == .suspendedForSharing)
        #expect(after.allocation(for: 2)?.decision == .charging)
        #expect(after.allocation(for: 2)?.amps == 10)
        // Fed back, the new holder keeps the slot for its own interval.
        a.chargingSince = after.allocation(for: 1)?.chargingSince
        a.suspendedSince = after.allocation(for: 1)?.suspendedSince
        b.chargingSince = after.allocation(for: 2)?.chargingSince
        b.suspendedSince = after.allocation(for: 2)?.suspendedSince
        #expect(a.suspendedSince == at(900))
        #expect(b.chargingSince == at(900))
        let next = PowerAllocator.allocate(AllocationInput(now: at(1500), gridLimitAmps: 10, connectors: [a, b], policy: policy))
        #expect(next.allocation(for: 2)?.decision == .charging)
    }

    @Test func noRotationWithoutSomeoneWaiting() {
        let r = PowerAllocator.allocate(AllocationInput(now: at(100_000), gridLimitAmps: 32, connectors: [active(1, charging: 0)]))
        #expect(r.allocation(for: 1)?.amps == 32)
        #expect(r.allocation(for: 1)?.chargingSince == at(0))
    }

    @Test func malformedNumbersAreTreatedAsZero() {
        var c = active(1)
        c.boardMaxAmps = .nan
        let r = PowerAllocator.allocate(AllocationInput(now: at(0), gridLimitAmps: .infinity, connectors: [c, active(2)]))
        #expect(r.allocation(for: 1)?.amps == 0)
        #expect(r.allocation(for: 2)?.amps == 0)
        #expect(r.stationLimitAmps == [0, 0, 0])
    }

    @Test func phaseUseIsDetectedFromTheMeter() {
        #expect(AllocationPhaseUse.detect(measuredAmps: [0, 15.2, 0.1]) == .singlePhase(.l2))
        #expect(AllocationPhaseUse.detect(measuredAmps: [10, 10, 10]) == .threePhase)
        #expect(AllocationPhaseUse.detect(measuredAmps: [0, 0, 0]) == nil)
        #expect(AllocationPhaseUse.detect(measuredAmps: [1, 2]) == nil)
    }

    @Test func chargingLimitConversions() {
        #expect(ChargingLimit.amps(16, phases: 3).totalWatts() == 11_040)
        #expect(ChargingLimit.watts(3_680, phases: 1).ampsPerPhase() == 16)
        #expect(ChargingLimit.watts(11_040, phases: 3).converted(to: .amps) == .amps(16, phases: 3))
    }

    @Test func amongEqualWaitsTheSessionThatHadLessGoesFirst() {
        let policy = AllocationPolicy(rotationInterval: .seconds(Int64(900)))
        var a = active(1, suspended: 0)
        a.chargedTimeBeforeStint = .seconds(Int64(3_600))
        var b = active(2, suspended: 0)
        b.chargedTimeBeforeStint = .seconds(Int64(600))
        let r = PowerAllocator.allocate(AllocationInput(now: at(60), gridLimitAmps: 10, connectors: [a, b], policy: policy))
        #expect(r.allocation(for: 2)?.decision == .charging)
        #expect(r.allocation(for: 1)?.decision == .suspendedForSharing)
    }

    @Test func carryOverFeedsTheRotationStateBack() {
        var c = active(1, charging: 100)
        c.chargedTimeBeforeStint = .seconds(Int64(50))
        // Suspended at 400 because a waiting session took the only slot.
        var waiting = active(2, suspended: 0)
        waiting.chargedTimeBeforeStint = .zero
        let policy = AllocationPolicy(rotationInterval: .seconds(Int64(300)))
        let r = PowerAllocator.allocate(AllocationInput(now: at(400), gridLimitAmps: 8, connectors: [c, waiting], policy: policy))
        let out = r.allocation(for: 1)
        #expect(out?.decision == .suspendedForSharing)
        #expect(out?.chargedTimeBeforeStint == .seconds(Int64(350)))
        if let out { c.carryOver(from: out) }
        #expect(c.chargingSince == nil && c.suspendedSince == at(400) && c.previousAllocationAmps == 0)
        #expect(c.chargedTimeBeforeStint == .seconds(Int64(350)))
    }
}
