@testable import ChargingCore
import Drivers
import HAL
import Testing

/// The session phase on its own: what each change does in each phase.
@Suite("Session phase")
struct SessionPhaseTests {
    static let card = IdToken("CARD1")
    static let other = IdToken("CARD2")
    static let t0 = MonotonicInstant(microseconds: 1_000_000)
    static let grant = SessionPhase.Grant(idToken: card, parentIdToken: nil, at: t0, reason: .local)
    static let session = Session(id: "S1", connectorId: 1, idToken: card, startReason: .local,
                                 meterStartWh: 1_000, startedAtUnixMs: 0)
    static let running = SessionPhase.running(session, groupCheck: nil)

    @Test("a stop needs a running session, and the first stop wins")
    func stops() {
        var idle = SessionPhase.initial
        idle.requestStop(RequestedStop(reason: .remote))
        #expect(idle == .initial)

        var phase = SessionPhase.running(Self.session, groupCheck: Self.other)
        phase.requestStop(RequestedStop(reason: .remote))
        guard case let .stopping(st) = phase else { Issue.record("not stopping: \(phase)"); return }
        #expect(st.stop.reason == .remote)
        #expect(st.groupCheck == Self.other, "the stop does not cancel the question already asked")
        #expect(!st.journaled && st.finalReading == .notAsked && st.lockHeldAfterFor == nil)
        phase.requestStop(RequestedStop(reason: .emergencyStop))
        #expect(phase == .stopping(st))
    }

    @Test("a second token asked about while authorized keeps the grant until answered")
    func authorizations() {
        var phase = SessionPhase.initial
        phase.beginAuthorizing(Self.card)
        #expect(phase.tokenBeingAuthorized == Self.card && phase.grant == nil)
        let taken = phase.takeAnswer(for: Self.other)
        #expect(!taken, "an answer nobody waits for")
        let taken2 = phase.takeAnswer(for: Self.card)
        #expect(taken2)
        #expect(phase == .initial)
        phase.grant(Self.grant)
        phase.beginAuthorizing(Self.other)
        #expect(phase == .idle(.init(authorization: .authorized(Self.grant, authorizing: Self.other))))
        let taken3 = phase.takeAnswer(for: Self.other)
        #expect(taken3)
        #expect(phase.grant == Self.grant, "a refused second token leaves the grant")
        phase.beginAuthorizing(Self.other)
        let withdrawn = phase.withdrawGrant()
        #expect(withdrawn == Self.grant)
        #expect(phase == .idle(.init(authorization: .authorizing(Self.other))), "the question outlives the grant")
        phase.grant(Self.grant)
        phase.forgetAuthorizations()
        #expect(phase == .initial)
    }

    @Test("a token presented during a session is asked about against its group, stopping or not")
    func groupCheck() {
        var phase = Self.running
        phase.beginAuthorizing(Self.other)
        #expect(phase == .running(Self.session, groupCheck: Self.other))
        phase.grant(Self.grant)
        #expect(phase == .running(Self.session, groupCheck: Self.other), "no grant beside a session")
        let taken4 = phase.takeAnswer(for: Self.other)
        #expect(taken4)
        #expect(phase == Self.running)
        phase.requestStop(RequestedStop(reason: .local))
        phase.beginAuthorizing(Self.other)
        #expect(phase.tokenBeingAuthorized == Self.other)
        phase.forgetAuthorizations()
        #expect(phase.tokenBeingAuthorized == nil)
    }

    @Test("a session starts from idle only, leaving the last session's traces behind")
    func start() {
        var phase = SessionPhase.idle(.init(authorization: .authorized(Self.grant, authorizing: Self.other),
                                            lastSessionStillPlugged: true, lockHeldFor: Self.card))
        phase.start(Self.session)
        #expect(phase == .running(Self.session, groupCheck: Self.other))
        var again = phase
        again.start(Session(id: "S2", connectorId: 1, idToken: Self.other, startReason: .local,
                            meterStartWh: 0, startedAtUnixMs: 0))
        #expect(again == phase)
    }

    @Test("a session ends from stopping only, into what it leaves behind")
    func end() {
        var running = Self.running
        running.end(stillPlugged: true)
        #expect(running == Self.running)

        var phase = SessionPhase.running(Self.session, groupCheck: Self.other)
        phase.vehicleUnplugged(stop: RequestedStop(reason: .evDisconnected), holdLock: true)
        guard case let .stopping(st) = phase else { Issue.record("not stopping: \(phase)"); return }
        #expect(st.lockHeldAfterFor == Self.card)
        phase.end(stillPlugged: false)
        #expect(phase == .idle(.init(authorization: .authorizing(Self.other), lockHeldFor: Self.card)))
        #expect(phase.lockHeldFor == Self.card)
        phase.releaseHeldLock()
        #expect(phase.lockHeldFor == nil)

        var plugged = Self.running
        plugged.requestStop(RequestedStop(reason: .remote))
        plugged.end(stillPlugged: true)
        #expect(plugged == .idle(.init(lastSessionStillPlugged: true)))
        plugged.vehicleUnplugged(stop: RequestedStop(reason: .evDisconnected), holdLock: true)
        #expect(plugged == .initial, "unplugging while idle only ends the last plug-in")
    }

    @Test("the final reading counts only when taken after it was asked for")
    func finalReading() {
        var phase = Self.running
        phase.requestStop(RequestedStop(reason: .remote))
        phase.meterRead(at: Self.t0)
        guard case var .stopping(st) = phase else { Issue.record("not stopping"); return }
        #expect(st.finalReading == .notAsked)
        st.finalReading = .awaited(since: Self.t0 + .milliseconds(10))
        phase = .stopping(st)
        phase.meterRead(at: Self.t0)
        #expect(phase == .stopping(st), "a reading from before the contactor opened")
        phase.meterRead(at: Self.t0 + .milliseconds(10))
        st.finalReading = .taken
        #expect(phase == .stopping(st))
    }

    @Test("the session's record changes in place; idle has none")
    func updateSession() {
        var idle = SessionPhase.initial
        idle.updateSession { $0.meterStartWh = 0 }
        #expect(idle == .initial)
        var phase = Self.running
        phase.requestStop(RequestedStop(reason: .remote))
        phase.updateSession { $0.meterStartWh = 5 }
        #expect(phase.session?.meterStartWh == 5)
        #expect(phase.session?.id == Self.session.id)
    }
}
