import HAL

/// Runs a scenario against a live simulator (real time; the firmware, if any, acts on the
/// other side of the HAL socket). Stops at the first failed step.
public struct ScenarioRunner: Sendable {
    public let simulator: Simulator
    public let log: @Sendable (String) -> Void
    public var pollInterval = EVSEDuration.milliseconds(20)

    public init(simulator: Simulator, log: @escaping @Sendable (String) -> Void) {
        self.simulator = simulator
        self.log = log
    }

    /// True when every step passed.
    public func run(_ scenario: Scenario) async -> Bool {
        log("scenario \(scenario.name): \(scenario.steps.count) steps")
        // `event KIND` conditions look at what happened since the last action step began.
        var actionSeq = simulator.lastEventSeq
        for (n, step) in scenario.steps.enumerated() {
            let label = "step \(n + 1) (line \(step.line)): \(step.text)"
            let started = simulator.clock.now()
            switch step.action {
            case .wait, .expect, .sleep: break
            default: actionSeq = simulator.lastEventSeq
            }
            let outcome = await execute(step.action, sinceSeq: actionSeq)
            let took = simulator.clock.now() - started
            if let failure = outcome {
                log("FAIL \(label)\n     saw: \(failure)")
                return false
            }
            log("ok   \(label) (\(String(format: "%.2f", took.seconds)) s)")
        }
        log("scenario passed")
        return true
    }

    /// nil on success, else what was seen.
    func execute(_ action: Scenario.Action, sinceSeq: UInt64) async -> String? {
        do {
            switch action {
            case let .plug(c, cable, profile, state):
                try simulator.withWorld { w throws(SimulatorError) in try w.plug(connector: c, cableA: cable, profile: profile, state: state) }
            case let .evState(c, s):
                try simulator.withWorld { w throws(SimulatorError) in try w.setEVState(connector: c, s) }
            case let .unplug(c, force):
                try simulator.withWorld { w throws(SimulatorError) in try w.unplug(connector: c, force: force) }
            case let .card(uid):
                try simulator.withWorld { w throws(SimulatorError) in _ = try w.presentCard(uidHex: uid) }
            case let .fault(kind, c, on):
                try simulator.withWorld { w throws(SimulatorError) in try w.setFault(kind, connector: c, active: on) }
            case let .houseLoad(amps):
                try simulator.withWorld { w throws(SimulatorError) in try w.setHouseLoad(amps) }
            case let .pv(watts):
                try simulator.withWorld { w throws(SimulatorError) in try w.setPV(watts: watts) }
            case let .pvCurve(curve):
                simulator.withWorld { w in w.setPVCurve(curve) }
            case let .sleep(d):
                try? await Task.sleep(for: .microseconds(d.microseconds))
            case let .expect(cond):
                let (ok, seen) = evaluate(cond, sinceSeq: sinceSeq)
                return ok ? nil : seen
            case let .wait(timeout, cond):
                let deadline = simulator.clock.now() + timeout
                while true {
                    let (ok, seen) = evaluate(cond, sinceSeq: sinceSeq)
                    if ok { return nil }
                    if simulator.clock.now() >= deadline { return "after \(timeout): \(seen)" }
                    try? await Task.sleep(for: .microseconds(pollInterval.microseconds))
                }
            }
        } catch let e as SimulatorError {
            return "refused: \(e.message)"
        } catch {
            return "\(error)"
        }
        return nil
    }

    /// (holds, what was observed).
    public func evaluate(_ cond: Scenario.Condition, sinceSeq: UInt64 = 0) -> (Bool, String) {
        let world = simulator.snapshot()
        func conn(_ id: Int) -> ConnectorModel? { world.connectors.first { $0.id == id } }
        switch cond {
        case let .contactor(id, closed):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            return (c.contactorClosed == closed, "contactor \(id) is \(c.contactorClosed ? "closed" : "open") (coil \(c.coil ? "on" : "off"))")
        case let .coil(id, on):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            return (c.coil == on, "coil \(id) is \(c.coil ? "on" : "off")")
        case let .pilot(id, s):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            return (c.pilotState == s, "pilot \(id) is \(c.pilotState.rawValue) (duty \(String(format: "%.1f", c.pwm.configured ? c.pwm.highFraction * 100 : 100)) %)")
        case let .ev(id, s):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            let now = c.ev?.request.rawValue ?? "A"
            return (now == s, "EV \(id) is in \(now)")
        case let .lock(id, locked):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            return (c.locked == locked, "lock \(id) is \(c.locked ? "locked" : "unlocked")")
        case let .quantity(q, id, op, v):
            guard let c = conn(id) else { return (false, "no connector \(id)") }
            let value: Double
            switch q {
            case .energy: value = c.energyImportWh
            case .power: value = c.currentA.reduce(0, +) * world.config.nominalVoltage
            case .current: value = c.currentA.max() ?? 0
            case .duty: value = c.pwm.configured ? c.pwm.highFraction * 100 : 100
            case .soc: value = c.ev?.soc ?? 0
            }
            return (op.holds(value, v), "\(q.rawValue) \(id) is \(String(format: "%.2f", value)) \(q.unit)")
        case let .displayContains(text):
            let lines = world.display.lines
            return (lines.contains { $0.contains(text) } || lines.joined(separator: " ").contains(text),
                    "display shows \(lines.map { "\"\($0)\"" }.joined(separator: " / "))")
        case let .firmware(connected):
            return ((world.firmwareSessions > 0) == connected, "firmware \(world.firmwareSessions > 0 ? "connected" : "not connected")")
        case let .event(kind):
            let hit = simulator.events(after: sinceSeq).first { $0.kind == kind }
            return (hit != nil, hit.map { "event \($0.json.serialized)" } ?? "no \(kind) event since the last action")
        }
    }
}
