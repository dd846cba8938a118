import HAL
import Locking
import Synchronization

/// The in-process backend for unit tests: every primitive is a plain object whose state a
/// test sets and reads. Lines, channels and buses are created on first open and can be
/// fetched again by address to poke at them.
public final class FakeBackend: HardwareBackend, InputChangeSignalling {
    public let backendName = "fake"
    /// A test's `drive`, `set(volts:)`, `injectEdge`, `inject` and `fail` on an input signal the
    /// loop's wake-up, as the simulator's pushes and kernel edge events do.
    let inputChanges = InputChangeRelay()
    private let state = Mutex(State())

    private struct State {
        var lines: [GPIOLineAddress: FakeGPIOLine] = [:]
        var pwms: [PWMAddress: FakePWMOutput] = [:]
        var leds: [LEDAddress: FakeKernelLED] = [:]
        var adcs: [ADCAddress: FakeADCInput] = [:]
        var buses: [String: FakeModbusBus] = [:]
        var i2c: [String: FakeI2CDevice] = [:]
        var keys: [String: FakeKeyEventSource] = [:]
        /// Addresses a test declared missing: opening them throws deviceMissing.
        var missing: Set<String> = []
    }

    public init() {}

    public func signalInputChanges(to wake: LoopWakeUp) { inputChanges.connect(wake) }
    public var signalsEveryInputChange: Bool { true }

    /// Makes the next open of something whose description equals `what` fail.
    public func markMissing(_ what: String) { state.locked { _ = $0.missing.insert(what) } }

    private func checkPresent(_ what: String) throws {
        if state.locked({ $0.missing.contains(what) }) {
            throw HardwareError(.deviceMissing, device: what, "no such device (fake backend)")
        }
    }

    public func openGPIOLine(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any GPIOLine {
        try checkPresent(address.description)
        return state.locked { s in
            if let l = s.lines[address] { l.reconfigure(config); return l }
            let l = FakeGPIOLine(address: address, config: config, inputChanges: inputChanges)
            s.lines[address] = l
            return l
        }
    }

    public func line(_ address: GPIOLineAddress) -> FakeGPIOLine? { state.locked { $0.lines[address] } }
    public func line(named name: String) -> FakeGPIOLine? { line(.name(name)) }

    public func openPWM(_ address: PWMAddress) throws -> any PWMOutput {
        try checkPresent(address.description)
        return state.locked { s in
            if let p = s.pwms[address] { return p }
            let p = FakePWMOutput(name: address.description)
            s.pwms[address] = p
            return p
        }
    }

    public func pwm(_ address: PWMAddress) -> FakePWMOutput? { state.locked { $0.pwms[address] } }

    public func openLED(_ address: LEDAddress) throws -> any KernelLED {
        try checkPresent(address.description)
        return state.locked { s in
            if let l = s.leds[address] { return l }
            let l = FakeKernelLED(name: address.description)
            s.leds[address] = l
            return l
        }
    }

    public func led(_ address: LEDAddress) -> FakeKernelLED? { state.locked { $0.leds[address] } }

    public func openADC(_ address: ADCAddress) throws -> any ADCInput {
        try checkPresent(address.description)
        return adcChannel(address)
    }

    /// The channel at `address`, created if needed, so a test can set its voltage before the
    /// driver opens it.
    public func adcChannel(_ address: ADCAddress) -> FakeADCInput {
        state.locked { s in
            if let a = s.adcs[address] { return a }
            let a = FakeADCInput(name: address.description, inputChanges: inputChanges)
            s.adcs[address] = a
            return a
        }
    }

    public func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        try checkPresent(config.name)
        return modbusBus(config.name)
    }

    public func modbusBus(_ name: String) -> FakeModbusBus {
        state.locked { s in
            if let b = s.buses[name] { return b }
            let b = FakeModbusBus(name: name)
            s.buses[name] = b
            return b
        }
    }

    public func openI2CDevice(bus: String, address: UInt8) throws -> any I2CDevice {
        try checkPresent(bus)
        return state.locked { s in
            let key = "\(bus)@\(address)"
            if let d = s.i2c[key] { return d }
            let d = FakeI2CDevice(bus: bus, address: address)
            s.i2c[key] = d
            return d
        }
    }

    public func i2cDevice(bus: String, address: UInt8) -> FakeI2CDevice? {
        state.locked { $0.i2c["\(bus)@\(address)"] }
    }

    public func openKeyEventSource(device: String) throws -> any KeyEventSource {
        try checkPresent(device)
        return keySource(device)
    }

    public func keySource(_ device: String) -> FakeKeyEventSource {
        state.locked { s in
            if let k = s.keys[device] { return k }
            let k = FakeKeyEventSource(name: device, inputChanges: inputChanges)
            s.keys[device] = k
            return k
        }
    }
}

/// A GPIO line whose logical level a test sets (inputs) or reads (outputs).
public final class FakeGPIOLine: GPIOLine {
    public let address: GPIOLineAddress
    private struct State {
        var config: GPIOLineConfig
        var level: Bool
        var pending: [GPIOEdgeEvent] = []
        var writes: [Bool] = []
        var closed = false
        var failing: HardwareError?
    }
    private let state: Mutex<State>
    private let inputChanges: InputChangeRelay

    init(address: GPIOLineAddress, config: GPIOLineConfig, inputChanges: InputChangeRelay = InputChangeRelay()) {
        self.address = address
        self.inputChanges = inputChanges
        var initial = false
        if case let .output(v) = config.direction { initial = v }
        state = Mutex(State(config: config, level: initial))
    }

    func reconfigure(_ config: GPIOLineConfig) { state.locked { $0.config = config } }

    public var config: GPIOLineConfig { state.locked { $0.config } }
    /// The current logical level.
    public var level: Bool { state.locked { $0.level } }
    /// Every value written, in order.
    public var writes: [Bool] { state.locked { $0.writes } }
    public var isClosed: Bool { state.locked { $0.closed } }

    /// Makes every further call throw `error` (nil: work again).
    public func fail(with error: HardwareError?) {
        state.locked { $0.failing = error }
        inputChanges.inputChanged()
    }

    /// Sets an input's level as the outside world would; queues an edge event stamped `at`
    /// when the level changes and the line asked for that edge.
    public func drive(_ active: Bool, at timestamp: MonotonicInstant) {
        // Only a change signals, as only a change makes a kernel edge or a simulator push.
        let changed = state.locked { s -> Bool in
            guard s.level != active else { return false }
            s.level = active
            let edge: GPIOEdge = active ? .rising : .falling
            switch s.config.edges {
            case .both: s.pending.append(GPIOEdgeEvent(edge: edge, timestamp: timestamp))
            case .rising where edge == .rising: s.pending.append(GPIOEdgeEvent(edge: edge, timestamp: timestamp))
            case .falling where edge == .falling: s.pending.append(GPIOEdgeEvent(edge: edge, timestamp: timestamp))
            default: break
            }
            return true
        }
        if changed { inputChanges.inputChanged() }
    }

    /// Queues an edge event without changing the level (for pulses shorter than a poll).
    public func injectEdge(_ event: GPIOEdgeEvent) {
        state.locked { $0.pending.append(event) }
        inputChanges.inputChanged()
    }

    public func read() throws -> Bool {
        try state.locked { s in
            if let e = s.failing { throw e }
            return s.level
        }
    }

    public func write(_ active: Bool) throws {
        try state.locked { s in
            if let e = s.failing { throw e }
            guard case .output = s.config.direction else {
                throw HardwareError(.invalidArgument, device: address.description, "write to an input line")
            }
            s.level = active
            s.writes.append(active)
        }
    }

    public func drainEdgeEvents() throws -> [GPIOEdgeEvent] {
        try state.locked { s in
            if let e = s.failing { throw e }
            defer { s.pending.removeAll() }
            return s.pending
        }
    }

    public func close() { state.locked { $0.closed = true } }
}

public final class FakePWMOutput: PWMOutput {
    public let name: String
    public struct Setting: Hashable, Sendable {
        public var periodNanoseconds: UInt64 = 0
        public var dutyNanoseconds: UInt64 = 0
        public var polarity: PWMPolarity = .normal
        public var enabled = false
        /// Duty as a percentage of the period (0 when the period is not set).
        public var dutyPercent: Double {
            periodNanoseconds == 0 ? 0 : Double(dutyNanoseconds) * 100 / Double(periodNanoseconds)
        }
    }
    private let state = Mutex(Setting())
    private let dutyHistory = Mutex<[UInt64]>([])
    init(name: String) { self.name = name }

    public var setting: Setting { state.locked { $0 } }
    /// Every duty `configure` set, in order: what a test counts writes by.
    public var configuredDuties: [UInt64] { dutyHistory.locked { $0 } }

    public func configure(periodNanoseconds: UInt64, dutyNanoseconds: UInt64) throws {
        guard dutyNanoseconds <= periodNanoseconds, periodNanoseconds > 0 else {
            throw HardwareError(.invalidArgument, device: name, "duty \(dutyNanoseconds) ns > period \(periodNanoseconds) ns")
        }
        state.locked { $0.periodNanoseconds = periodNanoseconds; $0.dutyNanoseconds = dutyNanoseconds }
        dutyHistory.locked { $0.append(dutyNanoseconds) }
    }
    public func setPolarity(_ polarity: PWMPolarity) throws { state.locked { $0.polarity = polarity } }
    public func setEnabled(_ enabled: Bool) throws { state.locked { $0.enabled = enabled } }
}

/// An LED class device: what the kernel was last told, and every write in order.
public final class FakeKernelLED: KernelLED {
    public let name: String
    public enum Shown: Hashable, Sendable {
        case steady(Double)
        case pattern([LEDPatternPoint])
    }
    private let history = Mutex<[Shown]>([])
    private let failing = Mutex<HardwareError?>(nil)
    init(name: String) { self.name = name }

    /// Every brightness and pattern written, oldest first.
    public var writes: [Shown] { history.locked { $0 } }
    public var shown: Shown? { writes.last }
    /// Makes every write throw `error` until it is called again with nil.
    public func fail(with error: HardwareError?) { failing.locked { $0 = error } }

    public func setBrightness(_ brightness: Double) throws {
        if let e = failing.locked({ $0 }) { throw e }
        history.locked { $0.append(.steady(min(1, max(0, brightness)))) }
    }

    public func runPattern(_ pattern: [LEDPatternPoint]) throws {
        if let e = failing.locked({ $0 }) { throw e }
        try LEDPatternPoint.check(pattern, device: name)
        history.locked { $0.append(.pattern(pattern)) }
    }
}

public final class FakeADCInput: ADCInput {
    public let name: String
    private let state = Mutex<(volts: Double, failing: HardwareError?)>((0, nil))
    private let inputChanges: InputChangeRelay
    init(name: String, inputChanges: InputChangeRelay = InputChangeRelay()) {
        self.name = name
        self.inputChanges = inputChanges
    }
    public func set(volts: Double) {
        let changed = state.locked { s -> Bool in defer { s.volts = volts }; return s.volts != volts }
        if changed { inputChanges.inputChanged() }
    }
    public func fail(with error: HardwareError?) {
        state.locked { $0.failing = error }
        inputChanges.inputChanged()
    }
    public func readVolts() throws -> Double {
        try state.locked { s in
            if let e = s.failing { throw e }
            return s.volts
        }
    }
}

/// A Modbus bus backed by a register table per unit and function. Tests can make it time out.
public final class FakeModbusBus: ModbusBus {
    public let name: String
    private struct Key: Hashable { var unit: UInt8; var function: ModbusFunction; var address: UInt16 }
    private struct State {
        var registers: [Key: UInt16] = [:]
        var failing: HardwareError?
        var requests = 0
    }
    private let state = Mutex(State())
    init(name: String) { self.name = name }

    /// Sets consecutive registers starting at `address`.
    public func setRegisters(unit: UInt8, function: ModbusFunction, address: UInt16, _ values: [UInt16]) {
        state.locked { s in
            for (i, v) in values.enumerated() {
                s.registers[Key(unit: unit, function: function, address: address &+ UInt16(i))] = v
            }
        }
    }

    /// Makes every request throw (e.g. `.timeout`) until called with nil.
    public func fail(with error: HardwareError?) { state.locked { $0.failing = error } }
    public var requestCount: Int { state.locked { $0.requests } }

    public func readRegisters(unit: UInt8, function: ModbusFunction, address: UInt16, count: UInt16) throws -> [UInt16] {
        try state.locked { s in
            s.requests += 1
            if let e = s.failing { throw e }
            var out: [UInt16] = []
            for i in 0..<count {
                guard let v = s.registers[Key(unit: unit, function: function, address: address &+ i)] else {
                    throw HardwareError(.protocolError, device: name,
                                        "unit \(unit): illegal data address \(address &+ i) (exception 2)")
                }
                out.append(v)
            }
            return out
        }
    }

    public func writeRegisters(unit: UInt8, address: UInt16, values: [UInt16]) throws {
        try state.locked { s in
            s.requests += 1
            if let e = s.failing { throw e }
            for (i, v) in values.enumerated() {
                s.registers[Key(unit: unit, function: .readHoldingRegisters, address: address &+ UInt16(i))] = v
            }
        }
    }
}

public final class FakeI2CDevice: I2CDevice {
    public let bus: String
    public let address: UInt8
    private let state = Mutex<[UInt8]>([])
    init(bus: String, address: UInt8) {
        self.bus = bus
        self.address = address
    }
    /// Every byte written, in order.
    public var written: [UInt8] { state.locked { $0 } }
    public func clearWritten() { state.locked { $0.removeAll() } }
    private let failing = Mutex(false)
    /// The next write throws `ioFailed` (a NAK on the bus) and writes nothing.
    public var failNextWrite: Bool {
        get { failing.locked { $0 } }
        set { failing.locked { $0 = newValue } }
    }
    public func write(_ bytes: [UInt8]) throws {
        if failing.locked({ f in defer { f = false }; return f }) {
            throw HardwareError(.ioFailed, device: "i2c \(bus) 0x\(String(address, radix: 16))", "no acknowledge (fake backend)")
        }
        state.locked { $0.append(contentsOf: bytes) }
    }
}

public final class FakeKeyEventSource: KeyEventSource {
    public let name: String
    private let state = Mutex<[KeyEvent]>([])
    private let inputChanges: InputChangeRelay
    init(name: String, inputChanges: InputChangeRelay = InputChangeRelay()) {
        self.name = name
        self.inputChanges = inputChanges
    }
    public func inject(_ events: [KeyEvent]) {
        state.locked { $0.append(contentsOf: events) }
        inputChanges.inputChanged()
    }
    public func drainKeyEvents() throws -> [KeyEvent] {
        state.locked { s in defer { s.removeAll() }; return s }
    }
}
