import Codecs
import HAL
import Locking
import Synchronization

/// A simulated GPIO line. The simulator's levels are physical and active-high; `activeLow`
/// inverts here, as the kernel does for real lines, so drivers see logical values.
final class SimGPIOLine: GPIOLine {
    let address: GPIOLineAddress
    private let name: String
    private let config: GPIOLineConfig
    private let connection: SimConnection
    private let closed = Atomic<Bool>(false)

    init(name: String, config: GPIOLineConfig, connection: SimConnection) {
        self.name = name
        address = .name(name)
        self.config = config
        self.connection = connection
    }

    private var isOutput: Bool {
        if case .output = config.direction { return true }
        return false
    }

    private func checkOpen() throws {
        if closed.load(ordering: .relaxed) {
            throw HardwareError(.invalidArgument, device: name, "line was closed")
        }
    }

    /// From the cache the simulator's pushes keep current: no round trip.
    func read() throws -> Bool {
        try checkOpen()
        try connection.ensureConnected()
        if let physical = connection.state.locked({ $0.levels[name] }) {
            return physical != config.activeLow
        }
        let values = try connection.send(["gpio.get", name], device: name)
        return try SimConnection.level(values.first, device: name) != config.activeLow
    }

    func write(_ active: Bool) throws {
        try checkOpen()
        guard isOutput else {
            throw HardwareError(.invalidArgument, device: name, "write to a line opened as input")
        }
        let physical = active != config.activeLow
        try connection.request(["gpio.set", name, physical ? "1" : "0"], device: name)
        connection.state.locked { $0.levels[name] = physical }
        connection.register(name, .gpioOutput(level: physical))
    }

    func drainEdgeEvents() throws -> [GPIOEdgeEvent] {
        try checkOpen()
        let (physical, dropped) = connection.state.locked { s -> ([GPIOEdgeEvent], Int) in
            defer {
                if s.edges[name] != nil { s.edges[name]?.removeAll(keepingCapacity: true) }
                s.droppedEdges[name] = nil
            }
            return (s.edges[name] ?? [], s.droppedEdges[name] ?? 0)
        }
        if dropped > 0 {
            throw HardwareError(.ioFailed, device: name, "\(dropped) edge events dropped: nobody drained the queue")
        }
        if physical.isEmpty {
            // Nothing queued: make a dead link visible (and retry it) instead of reporting silence.
            try connection.ensureConnected()
            return []
        }
        return physical.compactMap { event in
            let logical = GPIOEdgeEvent(edge: (event.edge == .rising) != config.activeLow ? .rising : .falling,
                                        timestamp: event.timestamp)
            switch config.edges {
            case .both: return logical
            case .rising: return logical.edge == .rising ? logical : nil
            case .falling: return logical.edge == .falling ? logical : nil
            case .none: return nil
            }
        }
    }

    func close() {
        if !closed.exchange(true, ordering: .relaxed) { connection.unregister(name) }
    }
}

final class SimPWMOutput: PWMOutput {
    let name: String
    private let connection: SimConnection
    private struct Setting {
        var period: UInt64 = 1_000_000
        var duty: UInt64 = 0
        var polarity: PWMPolarity = .normal
        var enabled = false
        var arguments: [String] { [String(period), String(duty), polarity.rawValue, enabled ? "1" : "0"] }
    }
    /// Held across the request so two callers cannot interleave their settings.
    private let setting = Mutex(Setting())

    init(name: String, connection: SimConnection) {
        self.name = name
        self.connection = connection
    }

    private func apply(_ change: (inout Setting) throws -> Void) throws {
        try setting.locked { current in
            var next = current
            try change(&next)
            try connection.request(["pwm.set", name] + next.arguments, device: name)
            connection.register(name, .pwm(setArguments: next.arguments))
            current = next
        }
    }

    func configure(periodNanoseconds: UInt64, dutyNanoseconds: UInt64) throws {
        guard periodNanoseconds > 0, dutyNanoseconds <= periodNanoseconds else {
            throw HardwareError(.invalidArgument, device: name, "duty \(dutyNanoseconds) ns with period \(periodNanoseconds) ns (need 0 < period, duty ≤ period)")
        }
        try apply { $0.period = periodNanoseconds; $0.duty = dutyNanoseconds }
    }

    func setPolarity(_ polarity: PWMPolarity) throws { try apply { $0.polarity = polarity } }

    func setEnabled(_ enabled: Bool) throws { try apply { $0.enabled = enabled } }
}

/// A simulated LED class device: the simulator runs the pattern, as the kernel's `pattern`
/// trigger does, so a breathing LED is one request per pattern change.
final class SimKernelLED: KernelLED {
    let name: String
    private let connection: SimConnection
    /// Held across the request so two callers cannot interleave.
    private let lock = Mutex(())

    init(name: String, connection: SimConnection) {
        self.name = name
        self.connection = connection
    }

    /// Brightness on the wire: 0…1 with three decimals.
    static func wire(_ brightness: Double) -> String {
        let permille = Int((min(1, max(0, brightness)) * 1000).rounded())
        return permille == 1000 ? "1" : permille == 0 ? "0" : "0." + String(String(permille + 1000).dropFirst())
    }

    private func request(_ command: [String]) throws {
        try lock.locked { _ in
            try connection.request(command, device: name)
            connection.register(name, .led(lastCommand: command))
        }
    }

    func setBrightness(_ brightness: Double) throws {
        try request(["led.set", name, Self.wire(brightness)])
    }

    func runPattern(_ pattern: [LEDPatternPoint]) throws {
        try LEDPatternPoint.check(pattern, device: name)
        try request(["led.pattern", name] + pattern.flatMap { [Self.wire($0.brightness), String($0.milliseconds)] })
    }
}

final class SimADCInput: ADCInput {
    let name: String
    private let connection: SimConnection

    init(name: String, connection: SimConnection) {
        self.name = name
        self.connection = connection
    }

    /// From the cache the simulator's `! adc` pushes keep current: no round trip.
    func readVolts() throws -> Double {
        try connection.ensureConnected()
        if let mv = connection.state.locked({ $0.millivolts[name] }) { return mv / 1000 }
        let values = try connection.send(["adc.get", name], device: name)
        guard let text = values.first, let mv = Double(text), mv.isFinite else {
            throw HardwareError(.protocolError, device: name, "adc.get answered \"\(values.joined(separator: " "))\", expected millivolts")
        }
        connection.state.locked { $0.millivolts[name] = mv }
        return mv / 1000
    }
}

final class SimI2CDevice: I2CDevice {
    let bus: String
    let address: UInt8
    private let connection: SimConnection

    init(bus: String, address: UInt8, connection: SimConnection) {
        self.bus = bus
        self.address = address
        self.connection = connection
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try connection.request(["i2c.write", bus, String(address), Self.hex(bytes)], device: "i2c \(bus)@\(address)")
    }
}

final class SimKeyEventSource: KeyEventSource {
    let name: String
    private let connection: SimConnection

    init(name: String, connection: SimConnection) {
        self.name = name
        self.connection = connection
    }

    func drainKeyEvents() throws -> [KeyEvent] {
        let events = connection.state.locked { s -> [KeyEvent] in
            defer { if s.keys[name] != nil { s.keys[name]?.removeAll(keepingCapacity: true) } }
            return s.keys[name] ?? []
        }
        if events.isEmpty { try connection.ensureConnected() }
        return events
    }
}
