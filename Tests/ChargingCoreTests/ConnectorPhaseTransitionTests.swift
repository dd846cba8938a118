@testable import ChargingCore
import TestSupport
import Drivers
import HAL
import Testing

/// The machine moves between session phases only along the allowed ways, and each move
/// comes with the commands it owes (a start or an end journaled in the same call).
@Suite("Connector session phase transitions")
struct ConnectorPhaseTransitionTests {
    enum Kind: String { case idle, running, stopping }

    static func kind(_ phase: SessionPhase) -> Kind {
        switch phase {
        case .idle: return .idle
        case .running: return .running
        case .stopping: return .stopping
        }
    }

    /// Within one `handle` call: a stop and the session's end may fall in the same call, a
    /// session's end and the next start never do (the next one needs a new authorization or
    /// a new plug-in).
    static let allowed: Set<String> = [
        "idle→idle", "idle→running",
        "running→running", "running→stopping", "running→idle",
        "stopping→stopping", "stopping→idle",
    ]

    static let configs: [ConnectorConfig] = ConnectorRandomizedTests.configs + [
        ConnectorConfig(fixedCableAmps: 32, finalMeterReadingTimeout: .milliseconds(2_000)),
        ConnectorConfig(lockRequired: true, unlockOnEVSideDisconnect: false, finalMeterReadingTimeout: .milliseconds(500)),
    ]

    struct Observed {
        var transitions: [String: Int] = [:]
        var violations = 0
    }

    static func check(_ before: SessionPhase, _ machine: ConnectorStateMachine, _ out: [ConnectorCommand],
                      _ seen: inout Observed, _ context: @autoclosure () -> String) {
        let after = machine.phase
        let move = "\(kind(before).rawValue)→\(kind(after).rawValue)"
        seen.transitions[move, default: 0] += 1
        var problems: [String] = []
        if !allowed.contains(move) { problems.append("transition \(move) is not allowed") }
        let started = out.startedSessions.map(\.id)
        let ended = out.endedSessions.map(\.id)
        switch (before.session, after.session) {
        case (nil, nil):
            if !started.isEmpty || !ended.isEmpty { problems.append("a session started or ended while idle") }
        case let (nil, s?):
            if started != [s.id] || out.persistedStart == nil { problems.append("entered running without journaling the start") }
        case let (s?, nil):
            if ended != [s.id] || out.persistedEnd == nil { problems.append("left the session without journaling its end") }
        case let (s?, t?):
            if s.id != t.id || !started.isEmpty || !ended.isEmpty { problems.append("the open session changed") }
        }
        if case let .stopping(was) = before, case let .stopping(now) = after, was.stop != now.stop {
            problems.append("a stopping session's stop was replaced")
        }
        switch after {
        case .idle:
            if machine.contactorClosed { problems.append("contactor closed with no session") }
        case let .running(s, _):
            if s.requestedStop != nil { problems.append("a running session carries a stop") }
        case let .stopping(st):
            if !st.journaled || st.session.requestedStop != st.stop { problems.append("a stop not journaled by the end of the call") }
            if st.finalReading != .notAsked && machine.contactorClosed { problems.append("final reading asked with the contactor closed") }
        }
        if let problem = problems.first, seen.violations == 0 {
            seen.violations += 1
            Issue.record(Comment(rawValue: "\(problem): \(before) → \(after) \(context())"))
        }
    }

    static func send(_ h: inout ConnectorHarness, _ event: ConnectorEvent, _ seen: inout Observed, step: Int) -> [ConnectorCommand] {
        let before = h.machine.phase
        let out = h.send(event)
        check(before, h.machine, out, &seen, "step \(step) \(event): \(out)")
        return out
    }

    static func run(seed: UInt64, steps: Int) -> Observed {
        var rng = SeededGenerator(seed: seed)
        let config = configs[Int(seed % UInt64(configs.count))]
        var h = ConnectorHarness(config)
        var seen = Observed()
        _ = send(&h, .cableRatingChanged(amps: 32), &seen, step: -1)
        var lastRequested: IdToken?
        var raised: [ConnectorFault] = []
        var energy = 0.0
        for step in 0..<steps where seen.violations == 0 {
            if Int.random(in: 0..<4, using: &rng) == 0 {
                // As the station's loop: tick at every deadline on the way.
                let target = h.now + .microseconds(Int64.random(in: 0...8_000_000, using: &rng))
                while let deadline = h.machine.nextDeadline(), deadline <= target {
                    h.now = max(h.now, deadline)
                    _ = send(&h, .tick, &seen, step: step)
                }
                h.now = target
            }
            let event = ConnectorRandomizedTests.randomEvent(&rng, lastRequested: lastRequested, raised: raised, energy: &energy)
            if case let .faultRaised(f) = event, !raised.contains(f) { raised.append(f) }
            if case let .faultCleared(f) = event { raised.removeAll { $0 == f } }
            if case let .authorizationRequested(t) = event { lastRequested = t }
            let out = send(&h, event, &seen, step: step)
            // The hardware answers: the lock most of the time, the meter whenever asked.
            for c in out {
                if c == .readMeterNow, Int.random(in: 0..<4, using: &rng) > 0 {
                    energy += 1
                    _ = send(&h, .meterSample(MeterSample(energyWh: energy)), &seen, step: step)
                } else if c == .lock || c == .unlock, Int.random(in: 0..<10, using: &rng) < 9 {
                    _ = send(&h, c == .lock ? .lockConfirmed : .unlockConfirmed, &seen, step: step)
                }
            }
        }
        return seen
    }

    @Test("every phase change in seeded random runs is an allowed one, with the commands it owes",
          arguments: Array(UInt64(1)...UInt64(14)))
    func randomized(seed: UInt64) {
        let seen = Self.run(seed: seed, steps: 3_000)
        #expect(seen.violations == 0)
        #expect(seen.transitions["idle→running", default: 0] > 0, "seed \(seed) never started a session: \(seen.transitions)")
    }

    @Test("across the runs every allowed transition happens (the check is not vacuous)")
    func coverage() {
        var all: [String: Int] = [:]
        for seed in UInt64(1)...UInt64(14) {
            all.merge(Self.run(seed: seed, steps: 1_500).transitions, uniquingKeysWith: +)
        }
        for move in Self.allowed { #expect(all[move, default: 0] > 0, "\(move) never seen: \(all)") }
    }

    // MARK: - Scripted

    @Test("a card presented during a session is asked about against its group; accepted, it stops the session")
    func groupCheckStops() {
        var h = ConnectorHarness()
        let parent = IdToken("FLEET")
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        h.send(.pilotChanged(.b))
        h.send(.authorizationRequested(IdToken("CARD1")))
        h.send(.authorizationResult(IdToken("CARD1"), AuthorizationInfo(status: .accepted, parentIdToken: parent)))
        guard let s = h.machine.session else { Issue.record("no session"); return }
        let colleague = IdToken("CARD2")
        let asked = h.send(.authorizationRequested(colleague))
        #expect(asked.contains(.authorize(colleague)))
        #expect(h.machine.phase == .running(s, groupCheck: colleague))
        let out = h.send(.authorizationResult(colleague, AuthorizationInfo(status: .accepted, parentIdToken: parent)))
        #expect(out.endedSessions.first?.stopIdToken == colleague)
        #expect(out.endedSessions.first?.stopReason == .local)
        #expect(h.machine.phase == .idle(.init(lastSessionStillPlugged: true)))
    }

    @Test("a card asked about when the session ends is then asked about to start the next one")
    func groupCheckOutlivesTheSession() {
        var h = ConnectorHarness()
        h.startSession()
        let next = IdToken("CARD2")
        h.send(.authorizationRequested(next))
        h.send(.stopRequested(.remote))
        #expect(h.machine.phase == .idle(.init(authorization: .authorizing(next), lastSessionStillPlugged: true)))
        #expect(h.status == .finishing)
        let out = h.send(.authorizationResult(next, .accepted))
        #expect(out.startedSessions.map(\.idToken) == [next])
    }

    @Test("a session ended by unplugging the EV side keeps the lock for its token, which releases it")
    func heldLock() {
        var h = ConnectorHarness(ConnectorConfig(lockRequired: true, fixedCableAmps: 32, unlockOnEVSideDisconnect: false))
        guard let s = h.startSession() else { Issue.record("no session"); return }
        let out = h.send(.pilotChanged(.a))
        #expect(out.endedSessions.map(\.id) == [s.id])
        #expect(h.machine.phase == .idle(.init(lockHeldFor: s.idToken)))
        #expect(!out.contains(.unlock))
        let out2 = h.send(.authorizationRequested(IdToken("OTHER")))
        #expect(out2.contains(.authorize(IdToken("OTHER"))))
        let out3 = h.send(.authorizationRequested(s.idToken))
        #expect(out3.contains(.unlock))
        #expect(h.machine.phase == .idle(.init(authorization: .authorizing(IdToken("OTHER")))))
    }

    @Test("a blocking fault stops the running session and forgets every authorization")
    func faultStops() {
        var h = ConnectorHarness(ConnectorConfig(fixedCableAmps: 32, finalMeterReadingTimeout: .milliseconds(2_000)))
        h.startSession()
        h.send(.pilotChanged(.c))
        h.send(.authorizationRequested(IdToken("CARD2")))
        let out = h.send(.faultRaised(.input(.emergencyStop)))
        #expect(out.contains(.readMeterNow))
        guard case let .stopping(st) = h.machine.phase else { Issue.record("not stopping: \(h.machine.phase)"); return }
        #expect(st.stop.reason == .emergencyStop)
        #expect(st.groupCheck == nil)
        #expect(st.journaled)
        let out4 = h.send(.meterSample(MeterSample(energyWh: 1_200)))
        #expect(out4.endedSessions.first?.meterStopWh == 1_200)
    }
}
