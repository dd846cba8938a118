import ChargingCore
import HAL
import Station
import Storage
import Testing

/// The next session's prelude through the loop on the fake board: journaled with the messages it
/// owes, kept across a restart, taken by the session that follows, ended by a stop.
@Suite("Station session prelude")
struct StationPreludeTests {
    /// The changes the adapter hook was handed, by kind, and a row queued for each prelude change.
    final class Hook: @unchecked Sendable {
        var seen: [String] = []
        var owed: SessionMessagesOwed {
            { change, journal in
                switch change {
                case let .preludeBegan(p):
                    self.seen.append("began \(p.cause.rawValue)")
                    try journal.enqueue(kind: "PreludeBegan", payload: "{}", sessionId: p.id, atMs: 0)
                case let .preludeEnded(p, end):
                    self.seen.append("ended \(end.reason.rawValue)")
                    try journal.enqueue(kind: "PreludeEnded", payload: "{}", sessionId: p.id, atMs: 0)
                case let .started(s):
                    self.seen.append("started \(s.preludeCause?.rawValue ?? "-")")
                default: break
                }
            }
        }
    }

    static func prelude(_ rig: Rig, _ id: Int = 1) -> SessionPrelude? { rig.station.snapshots.first { $0.id == id }?.prelude }

    /// A started station with its hook, the meters read and an EV plugged into connector 1 (its
    /// prelude begun).
    static func pluggedIn() throws -> (Rig, Hook) {
        let rig = try Rig()
        let hook = Hook()
        rig.station.sessionMessagesOwed = hook.owed
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { Self.prelude(rig) != nil }) != nil)
        return (rig, hook)
    }

    @Test func thePlugInsPreludeIsJournaledKeptAcrossARestartAndTakenByTheSession() throws {
        let (rig, hook) = try Self.pluggedIn()
        let prelude = try #require(Self.prelude(rig))
        #expect(prelude.cause == .evConnected)
        #expect(try rig.station.storage.journal.preludes().map(\.sessionId) == [prelude.id])
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["PreludeBegan"], "queued with it")

        let report = try rig.restart(messagesOwed: hook.owed)
        #expect(report.resumed.isEmpty && report.ended.isEmpty)
        #expect(Self.prelude(rig)?.id == prelude.id, "the EV is still plugged in: the prelude goes on")
        #expect(rig.startCharging(1))
        #expect(rig.view(1)?.session?.id == prelude.id, "the session continues the prelude's id")
        #expect(try rig.station.storage.journal.preludes().isEmpty, "the session's start ended the prelude on disk")
        #expect(hook.seen.last == "started evConnected")
    }

    @Test func theEVLeavingWhileTheStationWasDownEndsThePreludeAtTheNextStart() throws {
        let (rig, hook) = try Self.pluggedIn()
        rig.unplug(1)  // while the station is down: no step sees it
        _ = try rig.restart(messagesOwed: hook.owed)
        for _ in 0..<20 { rig.step() }
        #expect(Self.prelude(rig) == nil)
        #expect(try rig.station.storage.journal.preludes().isEmpty)
        #expect(hook.seen == ["began evConnected", "ended EVDisconnected"])
        #expect(try rig.station.storage.journal.pending(limit: 10).map(\.kind) == ["PreludeBegan", "PreludeEnded"])
    }

    @Test func aStopNamingThePreludeEndsItAndAnotherIdIsRefused() throws {
        let (rig, hook) = try Self.pluggedIn()
        let id = try #require(Self.prelude(rig)?.id)
        #expect(!rig.station.stopSession(connector: 1, sessionId: "another", reason: .remote, at: rig.clock.now()))
        #expect(rig.station.stopSession(connector: 1, sessionId: id, reason: .remote, at: rig.clock.now()))
        #expect(Self.prelude(rig) == nil)
        #expect(hook.seen == ["began evConnected", "ended Remote"])
        for _ in 0..<20 { rig.step() }
        #expect(Self.prelude(rig) == nil, "the same plug-in begins no other")
        #expect(rig.view(1)?.status == .preparing)
    }
}
