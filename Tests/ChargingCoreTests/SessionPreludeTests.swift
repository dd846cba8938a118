@testable import ChargingCore
import Drivers
import HAL
import Testing

/// The next session's prelude: its id handed out when the EV or the token comes first, taken by
/// the session that follows, ended (with a reason) when none follows.
@Suite("Session prelude")
struct SessionPreludeTests {
    static let card = IdToken("CARD1")

    static func began(_ out: [ConnectorCommand]) -> [SessionPrelude] {
        out.compactMap { if case let .persist(.preludeBegan(p)) = $0 { return p } else { return nil } }
    }

    static func ended(_ out: [ConnectorCommand]) -> [(SessionPrelude, SessionPreludeEnd)] {
        out.compactMap { if case let .persist(.preludeEnded(p, e)) = $0 { return (p, e) } else { return nil } }
    }

    @Test("plug first: the prelude begins at the plug-in, and the card's session takes its id")
    func plugFirstSessionTakesTheId() throws {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        let plugged = h.send(.pilotChanged(.b))
        let prelude = try #require(Self.began(plugged).first)
        #expect(prelude.cause == .evConnected && prelude.idToken == nil && prelude.meterWh == 1_000 && prelude.connectorId == 1)
        #expect(prelude.beganAtUnixMs == h.unixMs)
        #expect(h.machine.prelude == prelude)
        #expect(h.status == .preparing, "the status is the same as without a prelude")
        h.send(.authorizationRequested(Self.card))
        let authorized = h.send(.authorizationResult(Self.card, .accepted))
        let session = try #require(authorized.startedSessions.first)
        #expect(session.id == prelude.id && session.preludeCause == .evConnected)
        #expect(Self.began(authorized).isEmpty && Self.ended(authorized).isEmpty, "the session's start ends the prelude")
        #expect(h.machine.prelude == nil)
    }

    @Test("card first: the prelude begins at the grant with its token; plugging in starts the session under its id")
    func cardFirst() throws {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        h.send(.pilotChanged(.a))
        h.send(.authorizationRequested(Self.card))
        let granted = h.send(.authorizationResult(Self.card, .accepted))
        let prelude = try #require(Self.began(granted).first)
        #expect(prelude.cause == .authorized && prelude.idToken == Self.card && prelude.startReason == .local)
        let plugged = h.send(.pilotChanged(.b))
        let session = try #require(plugged.startedSessions.first)
        #expect(session.id == prelude.id && session.preludeCause == .authorized)
    }

    @Test("free vend: the session starts at the plug-in itself, with no prelude")
    func freeVend() throws {
        var h = ConnectorHarness(ConnectorConfig(fixedCableAmps: 32, freeVend: true))
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        let out = h.send(.pilotChanged(.b))
        #expect(out.startedSessions.count == 1 && Self.began(out).isEmpty)
        #expect(out.startedSessions.first?.preludeCause == nil)
    }

    @Test("the EV leaves before a token comes: the prelude ends EVDisconnected; the next plug-in begins a new one")
    func unplugEndsIt() throws {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        let plugged = h.send(.pilotChanged(.b))
        let first = try #require(Self.began(plugged).first)
        h.send(.meterSample(MeterSample(energyWh: 1_000.5)))
        let unplugged = h.send(.pilotChanged(.a))
        let (p, end) = try #require(Self.ended(unplugged).first)
        #expect(p == first && end.reason == .evDisconnected && end.meterWh == 1_000.5 && end.atUnixMs == h.unixMs)
        #expect(h.machine.prelude == nil && h.status == .available)
        let replugged = h.send(.pilotChanged(.b))
        let second = try #require(Self.began(replugged).first)
        #expect(second.id != first.id)
    }

    @Test("the grant runs out before the EV comes: the prelude ends Timeout at the connection timeout")
    func grantTimeoutEndsIt() throws {
        var h = ConnectorHarness(ConnectorConfig(fixedCableAmps: 32, connectionTimeout: .milliseconds(30_000)))
        h.send(.pilotChanged(.a))
        h.send(.authorizationRequested(Self.card))
        let granted2 = h.send(.authorizationResult(Self.card, .accepted))
        _ = try #require(Self.began(granted2).first)
        h.advance(.milliseconds(29_000))
        #expect(h.machine.prelude != nil)
        let before = h.log.count
        h.advance(.milliseconds(2_000))
        let (_, end) = try #require(Self.ended(Array(h.log[before...])).first)
        #expect(end.reason == .timeout)
        #expect(h.machine.prelude == nil)
    }

    @Test("a stop for the prelude ends it with the stop's reason; the same plug-in begins no other", arguments: [StopReason.remote, .hardReset])
    func stopEndsIt(reason: StopReason) throws {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        let pluggedForStop = h.send(.pilotChanged(.b))
        _ = try #require(Self.began(pluggedForStop).first)
        let stopped = h.send(.stopRequested(reason))
        #expect(Self.ended(stopped).map(\.1.reason) == [reason])
        #expect(h.machine.prelude == nil && Self.began(stopped).isEmpty)
        let ticked = h.send(.tick)
        #expect(Self.began(ticked).isEmpty, "still the same plug-in")
        // A card now opens a session (with a fresh id) at once: the EV is plugged in.
        h.send(.authorizationRequested(Self.card))
        let out = h.send(.authorizationResult(Self.card, .accepted))
        let session = try #require(out.startedSessions.first)
        #expect(session.preludeCause == nil)
        #expect(h.status == .preparing || h.status == .charging || h.status == .suspendedEV)
    }

    @Test("a fault or the connector made inoperative ends the prelude: EmergencyStop, Other")
    func faultAndInoperative() throws {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        let pluggedForFault = h.send(.pilotChanged(.b))
        _ = try #require(Self.began(pluggedForFault).first)
        let faulted = h.send(.faultRaised(.input(.emergencyStop)))
        #expect(Self.ended(faulted).map(\.1.reason) == [.emergencyStop])

        var i = ConnectorHarness()
        i.send(.meterSample(MeterSample(energyWh: 1_000)))
        let pluggedForAvailability = i.send(.pilotChanged(.b))
        _ = try #require(Self.began(pluggedForAvailability).first)
        let out = i.send(.setAvailability(operative: false))
        #expect(Self.ended(out).map(\.1.reason) == [.other])
        #expect(out.contains(.availabilityAnswered(.accepted)), "no session runs: the change is not scheduled")
        let operativeAgain = i.send(.setAvailability(operative: true))
        #expect(Self.began(operativeAgain).isEmpty, "the same plug-in begins no other")
    }

    @Test("no prelude on a connector that could not charge: inoperative, faulted, or after a session with the EV still plugged in")
    func noPreludeWhenItCannotCharge() throws {
        var off = ConnectorHarness(operative: false)
        off.send(.meterSample(MeterSample(energyWh: 1_000)))
        let pluggedWhileOff = off.send(.pilotChanged(.b))
        #expect(Self.began(pluggedWhileOff).isEmpty)

        var h = ConnectorHarness()
        let started = h.startSession()
        let s = try #require(started)
        h.send(.stopRequested(.remote))
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        #expect(h.machine.session == nil && h.status == .finishing)
        #expect(!h.log.contains { if case .persist(.preludeBegan(let p)) = $0 { return p.id != s.id } else { return false } },
                "the session's EV is still plugged in: Finishing, no new prelude")
    }

    @Test("a restart gives the prelude back: its id, and an authorized one's grant with a fresh timeout")
    func resume() throws {
        let token = IdToken("APP-1", kind: .central)
        let prelude = SessionPrelude(id: "P-1", connectorId: 1, cause: .authorized, idToken: token, startReason: .remote,
                                     beganAtUnixMs: 5, meterWh: 900)
        var h = ConnectorHarness()
        let resumed = h.machine.resumePrelude(prelude, at: h.now, unixMs: h.unixMs)
        #expect(Self.began(resumed).isEmpty && Self.ended(resumed).isEmpty, "nothing ends before the pilot is read")
        #expect(h.machine.prelude == prelude)
        h.send(.meterSample(MeterSample(energyWh: 900)))
        let plugged = h.send(.pilotChanged(.b))
        let session = try #require(plugged.startedSessions.first)
        #expect(session.id == "P-1" && session.idToken == token && session.startReason == .remote)

        var evFirst = ConnectorHarness()
        let p2 = SessionPrelude(id: "P-2", connectorId: 1, cause: .evConnected, beganAtUnixMs: 5)
        _ = evFirst.machine.resumePrelude(p2, at: evFirst.now, unixMs: evFirst.unixMs)
        let gone = evFirst.send(.pilotChanged(.a))
        #expect(Self.ended(gone).map(\.1.reason) == [.evDisconnected], "the EV left while the station was down")
        #expect(evFirst.machine.resumePrelude(SessionPrelude(id: "P-3", connectorId: 2, cause: .evConnected, beganAtUnixMs: 5),
                                              at: evFirst.now).isEmpty)
        #expect(evFirst.machine.prelude == nil, "another connector's prelude is not taken")
    }
}
