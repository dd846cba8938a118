import HAL
import Synchronization
import Testing

@Suite("LoopWakeUp: the loop's sleep, ended by a deadline or a signal")
struct LoopWakeUpTests {
    let clock = SystemMonotonicClock()

    @Test func aSignalSentBeforeTheWaitIsNotLost() throws {
        let wake = try LoopWakeUp()
        wake.signal()
        wake.signal()
        #expect(wake.wait(until: clock.now() + .seconds(Int64(5)), clock: clock), "returns at once, signalled")
        #expect(!wake.wait(until: clock.now(), clock: clock), "both signals consumed by the one wait")
        #expect(wake.signalCount == 2)
    }

    @Test func aPassedDeadlineReturnsAtOnceUnsignalled() throws {
        let wake = try LoopWakeUp()
        let before = clock.now()
        #expect(!wake.wait(until: before - .milliseconds(5), clock: clock))
        #expect(clock.now() - before < .milliseconds(500))
    }

    @Test func theDeadlineEndsTheSleepNoEarlier() throws {
        let wake = try LoopWakeUp()
        let before = clock.now()
        #expect(!wake.wait(until: before + .milliseconds(20), clock: clock))
        #expect(clock.now() - before >= .milliseconds(20))
    }

    @Test func aSignalFromAnotherThreadEndsAnEndlessSleep() throws {
        let wake = try LoopWakeUp()
        try startDetachedThread(name: "test-signal") { wake.signal() }
        #expect(wake.wait(until: nil, clock: clock))
    }

    @Test func aRelayPassesInputChangesOnOnceConnected() throws {
        let wake = try LoopWakeUp()
        let relay = InputChangeRelay()
        relay.inputChanged()
        #expect(!wake.drain(), "not connected yet: nobody hears it")
        relay.connect(wake)
        relay.inputChanged()
        #expect(wake.drain())
    }
}
