import HAL
import Logging

/// One firmware connection speaking the line protocol of Hardware-sim/PROTOCOL.md.
/// `handle(line:)` checks a request completely before it touches the world, so a rejected
/// request changes nothing; the rejection is logged and shows up as a `hal.rejected` event.
public final class HALSession: Sendable {
    public let simulator: Simulator
    public let id: Int
    static let logger = Logger(label: "evse-sim.hal")

    init(simulator: Simulator, id: Int) {
        self.simulator = simulator
        self.id = id
    }

    public func close() { simulator.closeHALSession(id) }

    /// The reply line (without newline) for one request line, nil for a blank line.
    public func handle(line raw: String) -> String? {
        var line = Substring(raw)
        while line.last == "\r" || line.last == "\n" { line = line.dropLast() }
        if line.allSatisfy({ $0 == " " }) { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard let requestID = UInt64(fields[0]) else {
            return reject("0", line: String(line), "request id \"\(fields[0])\" is not a decimal number")
        }
        let rid = String(requestID)
        guard fields.count >= 2 else { return reject(rid, line: String(line), "missing verb") }
        let verb = fields[1]
        let args = Array(fields.dropFirst(2))
        let outcome: Result<String, HALRequestError>? = simulator.withSession(id) { world, opened in
            HALSession.execute(verb: verb, args: args, rawArgs: line, world: &world, opened: &opened)
        }
        switch outcome {
        case .none: return "\(rid) err session closed"
        case let .success(values): return values.isEmpty ? "\(rid) ok" : "\(rid) ok \(values)"
        case let .failure(e): return reject(rid, line: String(line), e.message)
        }
    }

    private func reject(_ rid: String, line: String, _ message: String) -> String {
        HALSession.logger.warning("rejected \"\(line)\": \(message)")
        simulator.withWorld { $0.rejected(request: line, error: message) }
        return "\(rid) err \(message)"
    }

    struct HALRequestError: Error { var message: String }

    static func execute(verb: String, args: [String], rawArgs: Substring, world: inout World,
                        opened: inout [String: PrimitiveKind]) -> Result<String, HALRequestError> {
        func fail(_ m: String) -> Result<String, HALRequestError> { .failure(HALRequestError(message: m)) }
        func arity(_ n: Int, _ usage: String) -> HALRequestError? {
            args.count == n ? nil : HALRequestError(message: "\(verb) takes \(n) argument\(n == 1 ? "" : "s"): \(usage); got \(args.count)")
        }
        func level(_ s: String) -> Bool? { s == "1" ? true : s == "0" ? false : nil }
        func kind(_ name: String) -> Result<PrimitiveKind, HALRequestError> {
            if let k = world.primitiveKind(name) { return .success(k) }
            return .failure(HALRequestError(message: "unknown line \"\(name)\" (this charger has connectors \(world.connectors.map { "c\($0.id)" }.joined(separator: ", ")))"))
        }
        func requireOpened(_ name: String, as expected: PrimitiveKind...) -> HALRequestError? {
            guard let k = opened[name] else {
                if case let .failure(e) = kind(name) { return e }
                return HALRequestError(message: "\(name) is not open (send \(expected[0] == .pwm ? "pwm.open" : expected[0] == .led ? "led.open" : expected[0] == .adc ? "adc.open" : "gpio.open") first)")
            }
            return expected.contains(k) ? nil : HALRequestError(message: "\(name) is a \(k.rawValue), not a \(expected.map(\.rawValue).joined(separator: " or "))")
        }

        switch verb {
        case "hello":
            if let e = arity(2, "hello FIRMWARE-NAME VERSION") { return .failure(e) }
            guard args[1] == "1" else { return fail("unsupported protocol version \(args[1]) (evse-sim speaks 1)") }
            world.firmwareHello(name: args[0])
            return .success("evse-sim 1 \(world.connectors.count)")

        case "gpio.open":
            if let e = arity(3, "gpio.open NAME in EDGES | gpio.open NAME out INITIAL") { return .failure(e) }
            let name = args[0]
            let k: PrimitiveKind
            switch kind(name) { case let .success(v): k = v; case let .failure(e): return .failure(e) }
            switch args[1] {
            case "in":
                guard k == .input else { return fail("\(name) is a \(k.rawValue); it cannot be opened as an input") }
                guard GPIOEdgeDetection(rawValue: args[2]) != nil else {
                    return fail("EDGES must be none, rising, falling or both, got \"\(args[2])\"")
                }
                opened[name] = .input
                return .success(world.level(name) == true ? "1" : "0")
            case "out":
                guard k == .output else { return fail("\(name) is a \(k.rawValue); it cannot be opened as an output") }
                guard let initial = level(args[2]) else { return fail("INITIAL must be 0 or 1, got \"\(args[2])\"") }
                opened[name] = .output
                world.setOutput(name, initial)
                return .success(initial ? "1" : "0")
            default:
                return fail("direction must be in or out, got \"\(args[1])\"")
            }

        case "gpio.get":
            if let e = arity(1, "gpio.get NAME") { return .failure(e) }
            if let e = requireOpened(args[0], as: .input, .output) { return .failure(e) }
            return .success(world.level(args[0]) == true ? "1" : "0")

        case "gpio.set":
            if let e = arity(2, "gpio.set NAME LEVEL") { return .failure(e) }
            if let e = requireOpened(args[0], as: .output) { return .failure(e) }
            guard let l = level(args[1]) else { return fail("LEVEL must be 0 or 1, got \"\(args[1])\"") }
            world.setOutput(args[0], l)
            return .success("")

        case "pwm.open":
            if let e = arity(1, "pwm.open NAME") { return .failure(e) }
            switch kind(args[0]) {
            case .success(.pwm): opened[args[0]] = .pwm; return .success("")
            case let .success(k): return fail("\(args[0]) is a \(k.rawValue), not a pwm")
            case let .failure(e): return .failure(e)
            }

        case "pwm.set":
            if let e = arity(5, "pwm.set NAME PERIOD_NS DUTY_NS POLARITY ENABLED") { return .failure(e) }
            if let e = requireOpened(args[0], as: .pwm) { return .failure(e) }
            guard let period = UInt64(args[1]), period > 0 else { return fail("PERIOD_NS must be a positive integer, got \"\(args[1])\"") }
            guard let duty = UInt64(args[2]) else { return fail("DUTY_NS must be a non-negative integer, got \"\(args[2])\"") }
            guard duty <= period else { return fail("duty \(duty) ns exceeds period \(period) ns") }
            guard let polarity = PWMPolarity(rawValue: args[3]) else { return fail("POLARITY must be normal or inversed, got \"\(args[3])\"") }
            guard let enabled = level(args[4]) else { return fail("ENABLED must be 0 or 1, got \"\(args[4])\"") }
            // IEC 61851-1 wants 1 kHz ± 2 %; anything else is a firmware bug worth refusing.
            if enabled && args[0].hasSuffix(".cp.pwm") && !(980_392...1_020_409).contains(period) {
                return fail("control pilot period must be 1000000 ns (1 kHz ± 2 %), got \(period)")
            }
            var pwm = PilotPWM()
            pwm.periodNanoseconds = period
            pwm.dutyNanoseconds = duty
            pwm.inversed = polarity == .inversed
            pwm.enabled = enabled
            pwm.configured = true
            world.setPWM(args[0], pwm)
            return .success("")

        case "led.open":
            if let e = arity(1, "led.open NAME") { return .failure(e) }
            switch kind(args[0]) {
            case .success(.led): opened[args[0]] = .led; return .success("")
            case let .success(k): return fail("\(args[0]) is a \(k.rawValue), not an led")
            case let .failure(e): return .failure(e)
            }

        case "led.set":
            if let e = arity(2, "led.set NAME BRIGHTNESS") { return .failure(e) }
            if let e = requireOpened(args[0], as: .led) { return .failure(e) }
            guard let b = Double(args[1]), (0...1).contains(b) else { return fail("BRIGHTNESS must be a number 0…1, got \"\(args[1])\"") }
            world.setKernelLED(args[0], brightness: b, pattern: nil)
            return .success("")

        case "led.pattern":
            guard args.count >= 5, args.count % 2 == 1 else {
                return fail("led.pattern takes a name and at least two BRIGHTNESS MS pairs: led.pattern NAME B1 MS1 B2 MS2 …; got \(args.count) argument\(args.count == 1 ? "" : "s")")
            }
            if let e = requireOpened(args[0], as: .led) { return .failure(e) }
            var points: [LEDPatternPoint] = []
            for k in stride(from: 1, to: args.count, by: 2) {
                guard let b = Double(args[k]), (0...1).contains(b) else { return fail("BRIGHTNESS must be a number 0…1, got \"\(args[k])\"") }
                guard let ms = Int(args[k + 1]), (0...3_600_000).contains(ms) else { return fail("MS must be 0…3600000, got \"\(args[k + 1])\"") }
                points.append(LEDPatternPoint(brightness: b, milliseconds: ms))
            }
            guard points.contains(where: { $0.milliseconds > 0 }) else { return fail("a pattern needs at least one point with a duration above 0 ms") }
            world.setKernelLED(args[0], brightness: points[0].brightness, pattern: points)
            return .success("")

        case "adc.open", "adc.get":
            if let e = arity(1, "\(verb) NAME") { return .failure(e) }
            let name = args[0]
            if verb == "adc.open" {
                switch kind(name) {
                case .success(.adc): opened[name] = .adc
                case let .success(k): return fail("\(name) is a \(k.rawValue), not an adc")
                case let .failure(e): return .failure(e)
                }
            } else if let e = requireOpened(name, as: .adc) { return .failure(e) }
            return .success(String(world.adcMillivolts[name] ?? 0))

        case "i2c.write":
            if let e = arity(3, "i2c.write BUS ADDR HEXBYTES") { return .failure(e) }
            guard args[0] == world.config.displayBus else { return fail("unknown I2C bus \"\(args[0])\" (the simulator has \"\(world.config.displayBus)\")") }
            guard let addr = UInt8(args[1]) else { return fail("ADDR must be a decimal number 0…127, got \"\(args[1])\"") }
            // The character LCD's backpack at its configured address, the SSD1306 OLED at 0x3C/0x3D.
            guard addr == world.config.displayAddress || SimulatedSSD1306.addresses.contains(addr) else {
                return fail("no device at address \(addr) on bus \(args[0]) (the display is at \(world.config.displayAddress), an SSD1306 at 60 or 61)")
            }
            let hex = Array(args[2].utf8)
            guard !hex.isEmpty, hex.count % 2 == 0 else { return fail("HEXBYTES must be an even number of hex digits, got \"\(args[2])\"") }
            var bytes: [UInt8] = []
            for k in stride(from: 0, to: hex.count, by: 2) {
                guard let b = UInt8(String(decoding: hex[k...k + 1], as: UTF8.self), radix: 16) else {
                    return fail("HEXBYTES must be hex digits, got \"\(args[2])\"")
                }
                bytes.append(b)
            }
            world.i2cWrite(bus: args[0], address: addr, bytes: bytes)
            return .success("")

        case "keys.open":
            if let e = arity(1, "keys.open NAME") { return .failure(e) }
            switch kind(args[0]) {
            case .success(.keys): opened[args[0]] = .keys; return .success("")
            case let .success(k): return fail("\(args[0]) is a \(k.rawValue), not a key event source")
            case let .failure(e): return .failure(e)
            }

        case "mark":
            guard !args.isEmpty else { return fail("mark takes a TEXT") }
            world.mark(args.joined(separator: " "))
            return .success("")

        default:
            return fail("unknown verb \"\(verb)\"")
        }
    }
}
