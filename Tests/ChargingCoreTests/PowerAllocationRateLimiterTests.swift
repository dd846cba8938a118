import TestSupport
import HAL
import Testing
@testable import ChargingCore

@Suite("Power allocation: PWM change rate limiter")
struct PowerAllocationRateLimiterTests {
    private func at(_ ms: Int64) -> MonotonicInstant { MonotonicInstant(microseconds: UInt64(ms) * 1_000) }

    @Test func firstSignalAndReductionsApplyAtOnce() {
        var limiter = PWMChangeRateLimiter()
        #expect(limiter.apply(targets: [(1, 32)], now: at(0)).first?.amps == 32)
        let down = limiter.apply(targets: [(1, 10)], now: at(100))
        #expect(down.first?.amps == 10)
        #expect(down.first?.nextChangeAllowedAt == nil)
        #expect(limiter.apply(targets: [(1, 0)], now: at(200)).first?.amps == 0)
    }

    @Test func increaseWaitsFiveSecondsAfterTheLastChange() {
        var limiter = PWMChangeRateLimiter()
        _ = limiter.apply(targets: [(1, 16)], now: at(0))
        _ = limiter.apply(targets: [(1, 10)], now: at(1_000))
        let held = limiter.apply(targets: [(1, 16)], now: at(3_000))
        #expect(held.first?.amps == 10)
        #expect(held.first?.targetAmps == 16)
        #expect(held.first?.nextChangeAllowedAt == at(6_000))
        #expect(limiter.apply(targets: [(1, 16)], now: at(5_999)).first?.amps == 10)
        #expect(limiter.apply(targets: [(1, 16)], now: at(6_000)).first?.amps == 16)
    }

    @Test func currentFreedElsewhereIsHandedOnOnlyAfterTheOtherEVFollowed() {
        var limiter = PWMChangeRateLimiter()
        _ = limiter.apply(targets: [(1, 20), (2, 0)], now: at(0))
        let handover = limiter.apply(targets: [(1, 10), (2, 10)], now: at(60_000))
        #expect(handover.map(\.amps) == [10, 0])
        #expect(handover.last?.nextChangeAllowedAt == at(65_000))
        let later = limiter.apply(targets: [(1, 10), (2, 10)], now: at(65_000))
        #expect(later.map(\.amps) == [10, 10])
    }

    @Test func randomSequencesNeverSignalAboveTargetNorIncreaseFasterThanFiveSeconds() {
        var rng = SeededGenerator(seed: 0x5EED_0005)
        for _ in 0..<200 {
            var limiter = PWMChangeRateLimiter()
            var t: Int64 = 0
            var lastChange: [Int: Int64] = [:]
            var lastValue: [Int: Double] = [:]
            var lastReduction: Int64?
            for _ in 0..<100 {
                t += Int64.random(in: 0...4_000, using: &rng)
                let targets = (1...3).map { (connectorId: $0, amps: Double(Int.random(in: 0...32, using: &rng))) }
                let signals = limiter.apply(targets: targets, now: at(t))
                var reducedNow = false
                for (target, s) in zip(targets, signals) {
                    #expect(s.amps <= target.amps)
                    if let prev = lastValue[s.connectorId], s.amps != prev {
                        if s.amps > prev {
                            #expect(t - (lastChange[s.connectorId] ?? .min / 2) >= 5_000)
                            #expect(t - (lastReduction ?? .min / 2) >= 5_000)
                        } else {
                            reducedNow = true
                        }
                        lastChange[s.connectorId] = t
                    }
                    lastValue[s.connectorId] = s.amps
                }
                if reducedNow { lastReduction = t }
            }
        }
    }

    @Test func takesAWholeAllocationResult() {
        var limiter = PWMChangeRateLimiter()
        let result = PowerAllocator.allocate(AllocationInput(now: .zero, gridLimitAmps: 32, connectors: [
            AllocationConnectorInput(connectorId: 1, wantsEnergy: true, boardMaxAmps: 16),
            AllocationConnectorInput(connectorId: 2, wantsEnergy: false, boardMaxAmps: 16)]))
        let signals = limiter.apply(result, now: at(0))
        #expect(signals.map(\.amps) == [16, 0])
        #expect(limiter.signalled == [1: 16, 2: 0])
    }
}
