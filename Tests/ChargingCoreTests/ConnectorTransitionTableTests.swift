import ChargingCore
import Drivers
import HAL
import Testing

/// Every status × every event: the status reached, and the safety invariants after each.
@Suite("Connector transition table")
struct ConnectorTransitionTableTests {
    static let card = IdToken("CARD1")

    /// How to reach each starting status from a fresh connector.
    static let states: [(name: String, status: ConnectorStatus, script: [ConnectorEvent])] = [
        ("Available", .available, []),
        ("Preparing(plugged)", .preparing, [.pilotChanged(.b)]),
        ("Preparing(authorized)", .preparing, [.authorizationRequested(card), .authorizationResult(card, .accepted)]),
        ("Preparing(authorizing)", .preparing, [.pilotChanged(.b), .authorizationRequested(card)]),
        ("SuspendedEV", .suspendedEV, [.pilotChanged(.b), .authorizationRequested(card), .authorizationResult(card, .accepted)]),
        ("Charging", .charging, [.pilotChanged(.b), .authorizationRequested(card), .authorizationResult(card, .accepted),
                                 .pilotChanged(.c)]),
        ("SuspendedEVSE", .suspendedEVSE, [.pilotChanged(.b), .authorizationRequested(card),
                                           .authorizationResult(card, .accepted), .allocatedCurrent(amps: 0), .pilotChanged(.c)]),
        ("Finishing", .finishing, [.pilotChanged(.b), .authorizationRequested(card), .authorizationResult(card, .accepted),
                                   .pilotChanged(.c), .stopRequested(.remote), .pilotChanged(.b)]),
        ("Reserved", .reserved, [.reserve(Reservation(id: 1, idToken: IdToken("R1"), expiresAt: MonotonicInstant(microseconds: 3_600_000_000)))]),
        ("Unavailable", .unavailable, [.setAvailability(operative: false)]),
        ("Faulted", .faulted, [.faultRaised(.input(.emergencyStop))]),
    ]

    /// The events, in the column order of `expected`. `nil` = advance 7 s and tick.
    static let events: [(name: String, event: ConnectorEvent?)] = [
        ("pilot A", .pilotChanged(.a)), ("pilot B", .pilotChanged(.b)), ("pilot C", .pilotChanged(.c)),
        ("pilot E", .pilotChanged(.e)), ("card", .authorizationRequested(card)),
        ("accepted", .authorizationResult(card, .accepted)),
        ("rejected", .authorizationResult(card, AuthorizationInfo(status: .invalid))),
        ("remote start", .remoteStart(IdToken("APP", kind: .central), parentIdToken: nil)),
        ("remote stop", .stopRequested(.remote)), ("e-stop", .faultRaised(.input(.emergencyStop))),
        ("e-stop cleared", .faultCleared(.input(.emergencyStop))), ("welded", .contactorFault(.welded)),
        ("clearFault", .clearFault), ("inoperative", .setAvailability(operative: false)),
        ("operative", .setAvailability(operative: true)),
        ("reserve", .reserve(Reservation(id: 2, idToken: IdToken("R2"), expiresAt: MonotonicInstant(microseconds: 3_600_000_000)))),
        ("7 s later", nil), ("allocate 0 A", .allocatedCurrent(amps: 0)), ("allocate 16 A", .allocatedCurrent(amps: 16)),
    ]

    /// Resulting status per (state row, event column).
    static let expected: [String: String] = [
        "Available":              "Av Pr Pr Fa Pr Av Av Pr Av Fa Av Fa Av Un Av Re Av Av Av",
        "Preparing(plugged)":     "Av Pr Pr Fa Pr Pr Pr EV Pr Fa Pr Fa Pr Un Pr Pr Pr Pr Pr",
        "Preparing(authorized)":  "Pr EV Ch Fa Pr Pr Pr Pr Av Fa Pr Fa Pr Un Pr Pr Pr Pr Pr",
        "Preparing(authorizing)": "Pr Pr Pr Fa Pr EV Pr EV Pr Fa Pr Fa Pr Un Pr Pr Pr Pr Pr",
        "SuspendedEV":            "Av EV Ch Fa Fi EV EV EV Fi Fa EV Fa EV EV EV EV EV SE EV",
        "Charging":               "Av EV Ch Fa Fi Ch Ch Ch Fi Fa Ch Fa Ch Ch Ch Ch Ch Ch Ch",
        "SuspendedEVSE":          "Av SE SE Fa Fi SE SE SE Fi Fa SE Fa SE SE SE SE SE SE Ch",
        "Finishing":              "Av Fi Fi Fa Fi Fi Fi EV Fi Fa Fi Fa Fi Un Fi Fi Fi Fi Fi",
        "Reserved":               "Re Pr Pr Fa Pr Re Re Re Re Fa Re Fa Re Un Re Re Re Re Re",
        "Unavailable":            "Un Un Un Fa Un Un Un Un Un Fa Un Fa Un Un Av Un Un Un Un",
        "Faulted":                "Fa Fa Fa Fa Fa Fa Fa Fa Fa Fa Av Fa Fa Fa Fa Fa Fa Fa Fa",
    ]

    static let abbreviations: [String: ConnectorStatus] = [
        "Av": .available, "Pr": .preparing, "Ch": .charging, "EV": .suspendedEV, "SE": .suspendedEVSE,
        "Fi": .finishing, "Re": .reserved, "Un": .unavailable, "Fa": .faulted,
    ]

    static func prepare(_ script: [ConnectorEvent]) -> ConnectorHarness {
        var h = ConnectorHarness()
        h.send(.meterSample(MeterSample(energyWh: 1_000)))
        h.send(.pilotChanged(.a))
        for e in script { h.send(e) }
        return h
    }

    @Test("every starting state is reached as named")
    func startingStates() {
        for s in Self.states {
            let h = Self.prepare(s.script)
            #expect(h.status == s.status, "\(s.name)")
        }
    }

    @Test("every state × every event")
    func table() {
        #expect(Self.states.count == Self.expected.count)
        #expect(ConnectorStatus.allCases.allSatisfy { st in Self.states.contains { $0.status == st } },
                "the table starts from every status")
        var cells = 0
        for s in Self.states {
            guard let row = Self.expected[s.name]?.split(separator: " ").map(String.init), row.count == Self.events.count else {
                Issue.record("row \(s.name) is missing or has the wrong width")
                continue
            }
            for (column, e) in Self.events.enumerated() {
                var h = Self.prepare(s.script)
                let priorStatus = h.status
                if let event = e.event { h.send(event) } else { h.advance(.milliseconds(7_000)); h.send(.tick) }
                let want = Self.abbreviations[row[column]]
                #expect(h.status == want, "\(s.name) + \(e.name): got \(String(describing: h.status)), want \(row[column])")
                Self.checkInvariants(h, context: "\(s.name) + \(e.name)")
                let reported = h.log.statuses.last
                #expect(reported == h.status || (reported == nil && priorStatus == h.status))
                cells += 1
            }
        }
        #expect(cells == 11 * 19)
    }

    static func checkInvariants(_ h: ConnectorHarness, context: String) {
        if h.contactorClosed {
            #expect(h.machine.pilot == .c || (h.machine.pilot == .d && h.machine.config.ventilationAvailable), "\(context)")
            #expect(!h.machine.hasBlockingFault, "\(context)")
            #expect(h.machine.session != nil, "\(context)")
            #expect(h.status == .charging || h.status == .finishing, "\(context)")
        }
        #expect(h.contactorClosed == h.machine.contactorClosed, "\(context)")
    }
}
