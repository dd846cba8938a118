import ChargingCore
import HAL
import Testing
@testable import Station

/// An idle connector's meter is read at the board's `idle_poll_ms`, a connector in use at its
/// `poll_ms` (issue 12: the idle meters' reads were most of an idle station's CPU).
@Suite("Station: meters read at the idle pace while nothing is plugged in")
struct StationMeterPaceTests {
    @Test func aConnectorIsReadFastOnlyWhileAnEVIsThere() throws {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.startMeterPolling()
        defer { rig.station.shutdown(at: rig.clock.now()) }
        let p1 = try #require(rig.station.pollers[1])
        let p2 = try #require(rig.station.pollers[2])
        // The board's paces: sim-2x22kw says poll_ms 1000 and leaves the idle pace at its default.
        #expect(p1.interval == .milliseconds(1_000))
        #expect(p1.idleInterval == .milliseconds(5_000))
        #expect(p1.isIdle && p2.isIdle, "nothing plugged in at start")

        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        #expect(!p1.isIdle, "an EV on connector 1")
        #expect(p2.isIdle)

        rig.unplug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .a }) != nil)
        #expect(p1.isIdle, "the EV left, the contactor is open")
    }
}
