import HAL
import Testing
@testable import EVSESimulator

@Suite struct EventStreamTests {
    @Test func eventsAreNumberedStampedAndReplayable() async throws {
        let clock = VirtualClock(start: MonotonicInstant(microseconds: 2_000_000))
        let sim = Simulator(config: .standard(connectors: 1), clock: clock)
        try sim.withWorld { w throws(SimulatorError) in try w.plug(connector: 1) }
        clock.advance(by: .milliseconds(250))
        try sim.withWorld { w throws(SimulatorError) in try w.setEVState(connector: 1, .C) }
        let events = sim.events()
        #expect(events.map(\.kind) == ["ev.plugged", "pilot.state", "ev.state", "pilot.state"])
        #expect(events.map(\.seq) == [1, 2, 3, 4])
        #expect(events.map(\.at.microseconds) == [2_000_000, 2_000_000, 2_250_000, 2_250_000])
        #expect(events[3].sse == "id: 4\ndata: {\"seq\":4,\"t_us\":2250000,\"kind\":\"pilot.state\",\"connector\":1,\"state\":\"C\",\"previous\":\"B\",\"volts\":6}\n\n")

        var replay = sim.subscribe(since: 2).makeAsyncIterator()
        let first = await replay.next()
        #expect(first?.hasPrefix("id: 3\n") == true)
        let second = await replay.next()
        #expect(second?.hasPrefix("id: 4\n") == true)
    }

    @Test func stateJSONHasTheContractShape() throws {
        var w = World(config: .standard(connectors: 1), start: .zero)
        try w.plug(connector: 1, cableA: 32, profile: EVProfile(maxCurrentA: 16, phases: 3, capacityWh: 60_000, soc: 0.42))
        let c = try #require(w.stateJSON()["connectors"].flatMap { if case let .array(a) = $0 { return a.first } else { return nil } })
        #expect(c["id"] == .int(1))
        #expect(c["ev"]?["plugged"] == .bool(true))
        #expect(c["ev"]?["soc"] == .double(0.42))
        #expect(c["pilot"]?["state"] == .string("B"))
        #expect(c["pilot"]?["volts"] == .double(9))
        #expect(c["contactor"]?["closed"] == .bool(false))
        #expect(c["meter"]?["voltage_v"] == .array([.double(230), .double(230), .double(230)]))
        #expect(w.stateJSON()["firmware"]?["connected"] == .bool(false))
    }
}

@Suite struct ScenarioParserTests {
    @Test func parsesEveryStepKind() throws {
        let s = try Scenario.parse("""
            # comment
            plug 1 cable_a=20 max_current_a=16 phases=1 capacity_wh=40000 soc=0.3 state=C
            ev-state 1 D
            card 04A1B2C3   # trailing comment
            fault 2 rcd on
            fault estop off
            sleep 250ms
            wait 2s contactor 1 closed
            wait 1.5m energy 1 >= 1000
            expect display contains "Charging now"
            expect event firmware.mark
            unplug 1 force
            """, name: "t")
        #expect(s.steps.count == 11)
        #expect(s.steps[0].line == 2)
        guard case let .plug(1, cable, profile, .C) = s.steps[0].action else { Issue.record("plug"); return }
        #expect(cable == 20)
        #expect(profile == EVProfile(maxCurrentA: 16, phases: 1, capacityWh: 40_000, soc: 0.3))
        guard case .fault(.estop, nil, false) = s.steps[4].action else { Issue.record("fault"); return }
        guard case let .wait(d, .quantity(.energy, 1, .ge, 1000)) = s.steps[7].action else { Issue.record("wait"); return }
        #expect(d == .seconds(Int64(90)))
        guard case .expect(.displayContains("Charging now")) = s.steps[8].action else { Issue.record("display"); return }
        guard case .unplug(1, force: true) = s.steps[10].action else { Issue.record("unplug"); return }
    }

    @Test func errorsNameTheLine() {
        let cases: [(String, String)] = [
            ("plug 1\nwiggle 1", "t:2: unknown step \"wiggle\" (plug, ev-state, unplug, card, fault, house-load, pv, pv-curve, sleep, wait, expect)"),
            ("wait soon contactor 1 closed", "t:1: expected a duration like 500ms, 2s or 1.5m, got \"soon\""),
            ("fault rcd on", "t:1: fault rcd needs a connector: fault 1 rcd on"),
            ("expect pilot 1 G", "t:1: usage: pilot N A|B|C|D|E|F"),
            ("expect energy 1 ~ 5", "t:1: usage: energy N >=|<=|>|<|== VALUE"),
            ("", "t:0: the scenario has no steps"),
        ]
        for (text, message) in cases {
            #expect(throws: Scenario.ParseError.self) { try Scenario.parse(text, name: "t") }
            do {
                _ = try Scenario.parse(text, name: "t")
            } catch let e as Scenario.ParseError {
                #expect(e.description == message)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
