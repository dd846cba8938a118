import Foundation
import HAL

/// A scripted scenario: one step per line (format in Hardware-sim/README.md).
public struct Scenario: Sendable {
    public struct Step: Sendable {
        public var line: Int
        public var text: String
        public var action: Action
    }

    public enum Comparison: String, Sendable {
        case ge = ">=", le = "<=", gt = ">", lt = "<", eq = "=="
        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .ge: return a >= b
            case .le: return a <= b
            case .gt: return a > b
            case .lt: return a < b
            case .eq: return abs(a - b) < 1e-6
            }
        }
    }

    public enum Quantity: String, Sendable {
        case energy, power, current, duty, soc
        var unit: String {
            switch self {
            case .energy: return "Wh"
            case .power: return "W"
            case .current: return "A"
            case .duty: return "%"
            case .soc: return ""
            }
        }
    }

    public enum Condition: Sendable {
        case contactor(Int, closed: Bool)
        case coil(Int, on: Bool)
        case pilot(Int, PilotState)
        case ev(Int, String)
        case lock(Int, locked: Bool)
        case quantity(Quantity, Int, Comparison, Double)
        case displayContains(String)
        case firmware(connected: Bool)
        case event(String)
    }

    public enum Action: Sendable {
        case plug(Int, cableA: Double?, EVProfile, EVPilotRequest)
        case evState(Int, EVPilotRequest)
        case unplug(Int, force: Bool)
        case card(String)
        case fault(InjectedFault, Int?, Bool)
        /// The building: house load per phase, a fixed PV output, a PV day curve.
        case houseLoad([Double])
        case pv(watts: Double)
        case pvCurve(PVDayCurve)
        case sleep(EVSEDuration)
        case wait(EVSEDuration, Condition)
        case expect(Condition)
    }

    public var name: String
    public var steps: [Step]

    public struct ParseError: Error, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public static func load(path: String) throws -> Scenario {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ParseError(file: path, line: 0, message: "cannot read the scenario: \(error.localizedDescription)")
        }
        return try parse(text, name: path)
    }

    public static func parse(_ text: String, name: String) throws -> Scenario {
        var steps: [Step] = []
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.isEmpty { continue }
            do {
                steps.append(Step(line: n + 1, text: words.joined(separator: " "), action: try parseAction(words)))
            } catch let e as ParseError {
                throw ParseError(file: name, line: n + 1, message: e.message)
            }
        }
        if steps.isEmpty { throw ParseError(file: name, line: 0, message: "the scenario has no steps") }
        return Scenario(name: name, steps: steps)
    }

    static func fail(_ m: String) -> ParseError { ParseError(file: "", line: 0, message: m) }

    static func connector(_ s: String?) throws -> Int {
        guard let s, let n = Int(s), n > 0 else { throw fail("expected a connector number, got \"\(s ?? "nothing")\"") }
        return n
    }

    public static func duration(_ s: String) throws -> EVSEDuration {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            if let v = Double(s.dropLast(suffix.count)), v >= 0 { return .seconds(v * factor) }
        }
        throw fail("expected a duration like 500ms, 2s or 1.5m, got \"\(s)\"")
    }

    static func parseAction(_ w: [String]) throws -> Action {
        let args = Array(w.dropFirst())
        switch w[0] {
        case "plug":
            let c = try connector(args.first)
            var profile = EVProfile()
            var cable: Double?
            var state = EVPilotRequest.B
            for kv in args.dropFirst() {
                let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw fail("plug options are KEY=VALUE, got \"\(kv)\"") }
                if parts[0] == "state" {
                    guard let s = EVPilotRequest(rawValue: parts[1]) else { throw fail("state must be B, C or D") }
                    state = s
                    continue
                }
                guard let v = Double(parts[1]) else { throw fail("\(parts[0]) must be a number, got \"\(parts[1])\"") }
                switch parts[0] {
                case "cable_a": cable = v
                case "max_current_a": profile.maxCurrentA = v
                case "phases": profile.phases = Int(v)
                case "capacity_wh": profile.capacityWh = v
                case "soc": profile.soc = v
                default: throw fail("unknown plug option \"\(parts[0])\" (cable_a, max_current_a, phases, capacity_wh, soc, state)")
                }
            }
            return .plug(c, cableA: cable, profile, state)
        case "ev-state":
            guard args.count == 2, let s = EVPilotRequest(rawValue: args[1]) else { throw fail("usage: ev-state CONNECTOR B|C|D") }
            return .evState(try connector(args[0]), s)
        case "unplug":
            guard (1...2).contains(args.count), args.count == 1 || args[1] == "force" else { throw fail("usage: unplug CONNECTOR [force]") }
            return .unplug(try connector(args[0]), force: args.count == 2)
        case "card":
            guard args.count == 1 else { throw fail("usage: card UID-HEX") }
            return .card(args[0])
        case "fault":
            // fault [CONNECTOR] KIND on|off
            guard (2...3).contains(args.count) else { throw fail("usage: fault [CONNECTOR] KIND on|off") }
            let c: Int? = try args.count == 3 ? connector(args[0]) : nil
            guard let kind = InjectedFault(rawValue: args[args.count - 2]) else {
                throw fail("unknown fault \"\(args[args.count - 2])\" (\(InjectedFault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let onOff = ["on": true, "off": false][args[args.count - 1]] else { throw fail("fault state must be on or off") }
            if !kind.isStationWide && c == nil { throw fail("fault \(kind.rawValue) needs a connector: fault 1 \(kind.rawValue) on") }
            return .fault(kind, c, onOff)
        case "house-load":
            // house-load A | house-load L1 L2 L3
            guard args.count == 1 || args.count == 3 else { throw fail("usage: house-load AMPS | house-load L1 L2 L3") }
            let amps = try args.map { a -> Double in
                guard let v = Double(a), v.isFinite, v >= 0, v <= Building.maxHouseLoadA else { throw fail("house load must be 0…\(Int(Building.maxHouseLoadA)) A, got \"\(a)\"") }
                return v
            }
            return .houseLoad(amps)
        case "pv":
            guard args.count == 1, let w = Double(args[0]), w.isFinite, w >= 0, w <= Building.maxPVWatts else { throw fail("usage: pv WATTS") }
            return .pv(watts: w)
        case "pv-curve":
            // pv-curve seconds_per_hour=10 [start=6] 6=0 9=4000 12=9000 …   (HOUR=WATTS)
            var perHour = 3600.0
            var start: Double?
            var points: [PVDayCurve.Point] = []
            for kv in args {
                let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let v = Double(parts[1]) else { throw fail("pv-curve takes seconds_per_hour=N, start=HOUR and HOUR=WATTS, got \"\(kv)\"") }
                switch parts[0] {
                case "seconds_per_hour": perHour = v
                case "start": start = v
                default:
                    guard let h = Double(parts[0]) else { throw fail("pv-curve: \"\(parts[0])\" is not an hour of the day") }
                    points.append(.init(hour: h, watts: v))
                }
            }
            do {
                return .pvCurve(try PVDayCurve(points: points, secondsPerHour: perHour, startHour: start))
            } catch {
                throw fail(error.message)
            }
        case "sleep":
            guard args.count == 1 else { throw fail("usage: sleep DURATION") }
            return .sleep(try duration(args[0]))
        case "wait":
            guard args.count >= 2 else { throw fail("usage: wait TIMEOUT CONDITION") }
            return .wait(try duration(args[0]), try condition(Array(args.dropFirst())))
        case "expect":
            return .expect(try condition(args))
        default:
            throw fail("unknown step \"\(w[0])\" (plug, ev-state, unplug, card, fault, house-load, pv, pv-curve, sleep, wait, expect)")
        }
    }

    static func condition(_ w: [String]) throws -> Condition {
        guard let head = w.first else { throw fail("missing condition") }
        let a = Array(w.dropFirst())
        switch head {
        case "contactor":
            guard a.count == 2, ["closed", "open"].contains(a[1]) else { throw fail("usage: contactor N closed|open") }
            return .contactor(try connector(a[0]), closed: a[1] == "closed")
        case "coil":
            guard a.count == 2, ["on", "off"].contains(a[1]) else { throw fail("usage: coil N on|off") }
            return .coil(try connector(a[0]), on: a[1] == "on")
        case "pilot":
            guard a.count == 2, let s = PilotState(rawValue: a[1]) else { throw fail("usage: pilot N A|B|C|D|E|F") }
            return .pilot(try connector(a[0]), s)
        case "ev":
            guard a.count == 2, ["A", "B", "C", "D"].contains(a[1]) else { throw fail("usage: ev N A|B|C|D (A = unplugged)") }
            return .ev(try connector(a[0]), a[1])
        case "lock":
            guard a.count == 2, ["locked", "unlocked"].contains(a[1]) else { throw fail("usage: lock N locked|unlocked") }
            return .lock(try connector(a[0]), locked: a[1] == "locked")
        case "display":
            guard a.count >= 2, a[0] == "contains" else { throw fail("usage: display contains TEXT") }
            var text = a.dropFirst().joined(separator: " ")
            if text.count >= 2, text.first == "\"", text.last == "\"" { text = String(text.dropFirst().dropLast()) }
            return .displayContains(text)
        case "firmware":
            guard a.count == 1, ["connected", "disconnected"].contains(a[0]) else { throw fail("usage: firmware connected|disconnected") }
            return .firmware(connected: a[0] == "connected")
        case "event":
            guard a.count == 1 else { throw fail("usage: event KIND (e.g. firmware.mark)") }
            return .event(a[0])
        default:
            if let q = Quantity(rawValue: head) {
                guard a.count == 3, let op = Comparison(rawValue: a[1]), let v = Double(a[2]) else {
                    throw fail("usage: \(head) N >=|<=|>|<|== VALUE")
                }
                return .quantity(q, try connector(a[0]), op, v)
            }
            throw fail("unknown condition \"\(head)\" (contactor, coil, pilot, ev, lock, energy, power, current, duty, soc, display, firmware, event)")
        }
    }
}
