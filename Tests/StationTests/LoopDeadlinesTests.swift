import HAL
import Station
import Testing

@Suite("LoopDeadlines: one queue for every timer of the loop")
struct LoopDeadlinesTests {
    let t0 = MonotonicInstant(microseconds: 10_000_000)

    @Test func earliestOfAllArmedTimersWins() {
        var d = LoopDeadlines()
        d.add(.display, at: t0 + .seconds(Int64(1)))
        d.add(.connectorMachine, at: nil)
        d.add(.statusLED, at: t0 + .milliseconds(250))
        d.add(.allocation, at: t0 + .seconds(Int64(10)))
        #expect(d.earliest?.timer == .statusLED)
        #expect(d.earliest?.at == t0 + .milliseconds(250))
        #expect(d.sleep(from: t0) == .milliseconds(250))
        #expect(d.instants(of: .connectorMachine).isEmpty, "an unarmed timer adds nothing")
    }

    @Test func nothingArmedMeansSleepUntilWoken() {
        var d = LoopDeadlines()
        d.add(.storageProbe, at: nil)
        #expect(d.earliest == nil)
        #expect(d.wakeUp(from: t0) == nil)
        #expect(d.sleep(from: t0) == nil)
        #expect(d.sleep(from: t0, longest: .seconds(Int64(5))) == .seconds(Int64(5)), "a cap still bounds it")
    }

    @Test func aTimerAlreadyDueMeansNoSleepNeverANegativeOne() {
        var d = LoopDeadlines()
        d.add(.connectorMachine, at: t0 - .milliseconds(3))
        d.add(.display, at: t0 + .seconds(Int64(1)))
        #expect(d.wakeUp(from: t0) == t0)
        #expect(d.sleep(from: t0) == .zero)
    }

    @Test func aCapShortensALongSleepOnly() {
        var d = LoopDeadlines()
        d.add(.historyPrune, at: t0 + .seconds(Int64(3_600)))
        #expect(d.sleep(from: t0, longest: .milliseconds(50)) == .milliseconds(50))
        d.add(.statusLED, at: t0 + .milliseconds(10))
        #expect(d.sleep(from: t0, longest: .milliseconds(50)) == .milliseconds(10))
    }

    @Test func onATieTheFirstAddedIsNamed() {
        var d = LoopDeadlines()
        d.add(.inputSettling, at: t0 + .milliseconds(1))
        d.add(.statusLED, at: t0 + .milliseconds(1))
        #expect(d.earliest?.timer == .inputSettling)
        #expect(d.description.hasPrefix("input settling@"))
    }
}
