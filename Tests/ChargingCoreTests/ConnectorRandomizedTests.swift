import TestSupport
import ChargingCore
import Drivers
import HAL
import Testing

/// Thousands of seeded random events against an independent model of what must never happen.
@Suite("Connector randomized invariants")
struct ConnectorRandomizedTests {
    static let tokens = [IdToken("A"), IdToken("B"), IdToken("C")]
    static let faults: [ConnectorFault] = [
        .input(.rcd), .input(.dcResidual), .input(.emergencyStop), .input(.overTemperature),
        .lock(.failedToLock), .lock(.lostLock), .meter, .reader, .diode,
    ]
    static let configs: [ConnectorConfig] = [
        ConnectorConfig(fixedCableAmps: 32),
        ConnectorConfig(lockRequired: true, rcdSelfTestAvailable: true),
        ConnectorConfig(maximumCurrent: 16, fixedCableAmps: 20, ventilationAvailable: true, freeVend: true),
        ConnectorConfig(lockRequired: true, stopOnEVSideDisconnect: false, unlockOnEVSideDisconnect: false),
        ConnectorConfig(fixedCableAmps: 32, ventilationAvailable: true, stopOnEVSideDisconnect: false),
    ]

    struct Model {
        var pilot: CPState?
        var activeInputs: Set<ConnectorFault> = []
        var welded = false
        var lastLockEvent: ConnectorEvent?
        var granted: Set<IdToken> = []
        var openSessions: Set<String> = []
        var endedSessions: Set<String> = []
        var withdrawnAt: MonotonicInstant?
        var closes = 0
        var sessions = 0
        var violations = 0
    }

    /// Records the first violation only: a broken invariant would otherwise repeat thousands
    /// of times.
    static func ok(_ violations: inout Int, _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
        guard violations == 0, !condition() else { return }
        violations += 1
        Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation)
    }

    static func randomEvent(_ rng: inout SeededGenerator, lastRequested: IdToken?, raised: [ConnectorFault],
                            energy: inout Double) -> ConnectorEvent {
        // Faults are rarer than everyday events and usually go away again, so runs reach
        // charging often while still crossing every fault path.
        let rare = Int.random(in: 0..<100, using: &rng)
        if rare < 3 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6: return .faultRaised(faults.randomElement(using: &rng) ?? .meter)
            case 6..<8: return .contactorFault(ContactorFaultKind.allCases.randomElement(using: &rng) ?? .welded)
            default: return .faultCleared(faults.randomElement(using: &rng) ?? .meter)
            }
        }
        if rare < 12, let f = raised.randomElement(using: &rng) {
            return Bool.random(using: &rng) ? .faultCleared(f) : .clearFault
        }
        let pick = Int.random(in: 0..<100, using: &rng)
        switch pick {
        case 0..<22: return .pilotChanged([CPState.a, .b, .b, .c, .c, .c, .d, .e, .f].randomElement(using: &rng) ?? .b)
        case 22..<25: return .cableRatingChanged(amps: [nil, 13, 20, 32, 63].randomElement(using: &rng) ?? nil)
        case 25..<26: return Bool.random(using: &rng) ? .lockConfirmed : .unlockConfirmed
        case 26..<30: return .allocatedCurrent(amps: 16)
        case 30..<40: return .pilotChanged([CPState.a, .b, .c].randomElement(using: &rng) ?? .b)
        case 40..<42: return .clearFault
        case 42..<44: return .rcdSelfTestFinished(passed: Int.random(in: 0..<8, using: &rng) > 0)
        case 44..<52: return .authorizationRequested(tokens.randomElement(using: &rng) ?? tokens[0])
        case 52..<62:
            let token = (Int.random(in: 0..<10, using: &rng) < 8 ? lastRequested : nil) ?? tokens.randomElement(using: &rng) ?? tokens[0]
            let status: AuthorizationStatus = Int.random(in: 0..<5, using: &rng) == 0 ? .blocked : .accepted
            let parent = Bool.random(using: &rng) ? IdToken("P") : nil
            return .authorizationResult(token, AuthorizationInfo(status: status, parentIdToken: parent))
        case 62..<64: return .remoteStart(tokens.randomElement(using: &rng) ?? tokens[0], parentIdToken: nil)
        case 64..<67: return .stopRequested([StopReason.remote, .local, .softReset, .deAuthorized].randomElement(using: &rng) ?? .remote)
        case 67..<68: return .unlockRequested
        case 68..<80:
            energy += Double.random(in: 0...50, using: &rng)
            let amps = Double.random(in: 0...40, using: &rng)
            return .meterSample(MeterSample(energyWh: energy, currentsA: [amps, amps * 0.9, amps * 0.95]))
        case 80..<86: return .allocatedCurrent(amps: [0, 4, 6, 10, 16, 32].randomElement(using: &rng) ?? 16)
        case 86..<88: return .setAvailability(operative: Int.random(in: 0..<4, using: &rng) > 0)
        case 88..<90: return .reserve(Reservation(id: Int.random(in: 1...3, using: &rng), idToken: tokens.randomElement(using: &rng) ?? tokens[0],
                                                  expiresAt: MonotonicInstant(microseconds: UInt64.random(in: 0...4_000_000_000, using: &rng))))
        case 90..<91: return .cancelReservation(id: Int.random(in: 1...3, using: &rng))
        default: return .tick
        }
    }

    static func run(seed: UInt64, steps: Int) -> Model {
        var rng = SeededGenerator(seed: seed)
        let config = configs[Int(seed % UInt64(configs.count))]
        var h = ConnectorHarness(config)
        var m = Model()
        h.send(.cableRatingChanged(amps: 32))
        if config.freeVend { m.granted.insert(config.freeVendIdToken) }
        var lastRequested: IdToken?
        var raised: [ConnectorFault] = []
        var energy = 0.0
        for step in 0..<steps where m.violations == 0 {
            if Int.random(in: 0..<4, using: &rng) == 0 {
                let micros = Int64.random(in: 0...8_000_000, using: &rng)
                let before = h.log.count
                h.advance(.microseconds(micros))
                check(&m, h, Array(h.log[before...]), step: step, seed: seed)
            }
            let event = randomEvent(&rng, lastRequested: lastRequested, raised: raised, energy: &energy)
            if case let .faultRaised(f) = event, !raised.contains(f) { raised.append(f) }
            if case let .faultCleared(f) = event { raised.removeAll { $0 == f } }
            switch event {
            case let .pilotChanged(s): m.pilot = s
            case let .faultRaised(f) where f.errorKind != .lockFailure && f != .meter && f != .reader && f != .diode:
                m.activeInputs.insert(f)
            case let .faultCleared(f): m.activeInputs.remove(f)
            case .contactorFault(.welded): m.welded = true
            case .clearFault: m.welded = false
            case .lockConfirmed, .unlockConfirmed, .faultRaised(.lock): m.lastLockEvent = event
            case let .authorizationRequested(t): lastRequested = t
            case let .authorizationResult(t, info) where info.status == .accepted: m.granted.insert(t)
            case let .remoteStart(t, _): m.granted.insert(t)
            default: break
            }
            let out = h.send(event)
            check(&m, h, out, step: step, seed: seed)
            // The lock hardware answers most commands.
            if Int.random(in: 0..<10, using: &rng) < 9 {
                for answer in out.compactMap({ c -> ConnectorEvent? in
                    c == .lock ? .lockConfirmed : c == .unlock ? .unlockConfirmed : nil
                }) {
                    m.lastLockEvent = answer
                    check(&m, h, h.send(answer), step: step, seed: seed)
                }
            }
        }
        return m
    }

    static func check(_ m: inout Model, _ h: ConnectorHarness, _ out: [ConnectorCommand], step: Int, seed: UInt64) {
        var v = m.violations
        defer { m.violations = v }
        let ctx = "seed \(seed) step \(step) at \(h.now): \(out)"
        // Ordering within one batch: persistence before effect.
        var persistedStart: Set<String> = []
        var persistedEnd: Set<String> = []
        for c in out {
            switch c {
            case let .persist(.started(s)):
                ok(&v, !m.openSessions.contains(s.id) && !m.endedSessions.contains(s.id), "\(ctx)")
                persistedStart.insert(s.id)
                m.openSessions.insert(s.id)
                m.sessions += 1
            case let .persist(.ended(s)):
                ok(&v, m.openSessions.contains(s.id), "ended a session that was not open: \(ctx)")
                ok(&v, !m.endedSessions.contains(s.id), "ended twice: \(ctx)")
                ok(&v, s.meterStopWh ?? 0 >= s.meterStartWh, "\(ctx)")
                persistedEnd.insert(s.id)
                m.openSessions.remove(s.id)
                m.endedSessions.insert(s.id)
            case let .sessionStarted(s):
                ok(&v, persistedStart.contains(s.id), "started before persisted: \(ctx)")
                ok(&v, m.granted.contains(s.idToken), "session for a token never authorized: \(ctx)")
            case let .sessionEnded(s):
                ok(&v, persistedEnd.contains(s.id), "ended before persisted: \(ctx)")
            case .closeContactor:
                ok(&v, !m.openSessions.isEmpty, "closed without a persisted session: \(ctx)")
                m.closes += 1
                m.withdrawnAt = nil
            case .openContactor:
                m.withdrawnAt = nil
            case let .setPilot(p):
                if case .offer = p { m.withdrawnAt = nil } else if h.contactorClosed, m.withdrawnAt == nil {
                    // (contactorClosed reflects the batch's end; only the 6 s bound below matters)
                    m.withdrawnAt = h.now
                }
            case .unlock:
                ok(&v, !out.contains(where: { if case .sessionEnded = $0 { return true } else { return false } })
                        || !persistedEnd.isEmpty, "\(ctx)")
            default: break
            }
        }
        if !h.contactorClosed { m.withdrawnAt = nil }
        // Liveness (the 3 s rule): C2 with a persisted session, no fault, the lock confirmed →
        // the contactor is closed by the end of the same step.
        if case .offer = h.pilotCommand, m.pilot == .c, h.machine.session != nil, !h.machine.hasBlockingFault,
           m.activeInputs.isEmpty, !h.machine.config.lockRequired || m.lastLockEvent == .lockConfirmed {
            ok(&v, h.contactorClosed, "C2 with every condition met but the contactor open: \(ctx)")
        }
        guard h.contactorClosed else { return }
        // Never a closed contactor while the pilot is not C/D, with a fault, without authorization.
        ok(&v, m.pilot == .c || (m.pilot == .d && h.machine.config.ventilationAvailable), "pilot \(String(describing: m.pilot)): \(ctx)")
        ok(&v, m.activeInputs.isEmpty, "fault input active \(m.activeInputs): \(ctx)")
        ok(&v, !m.welded, "closed after a weld: \(ctx)")
        ok(&v, h.machine.session.map { m.granted.contains($0.idToken) } == true, "no authorized session: \(ctx)")
        ok(&v, m.openSessions.count == 1, "\(ctx)")
        if h.machine.config.lockRequired {
            ok(&v, m.lastLockEvent == .lockConfirmed, "closed with the lock not confirmed: \(ctx)")
        }
        if let withdrawn = m.withdrawnAt {
            ok(&v, h.now - withdrawn <= .milliseconds(6_000), "PWM withdrawn for more than 6 s: \(ctx)")
        }
        if case .offer = h.pilotCommand {} else {
            ok(&v, m.withdrawnAt != nil, "closed without PWM and no withdrawal time: \(ctx)")
        }
    }

    @Test("seeded random sequences never break the safety invariants", arguments: Array(UInt64(1)...UInt64(20)))
    func randomized(seed: UInt64) {
        let m = Self.run(seed: seed, steps: 3_000)
        // The run reached charging (not vacuous).
        #expect(m.closes >= 5, "seed \(seed) closed the contactor only \(m.closes) times")
        #expect(m.sessions > 0)
    }

    @Test("the same seed replays the same commands")
    func deterministic() {
        #expect(Self.run(seed: 99, steps: 500).closes == Self.run(seed: 99, steps: 500).closes)
    }
}
