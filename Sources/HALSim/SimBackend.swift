import HAL
import Locking

/// The backend for the hardware simulator (`evse-sim`): every primitive is a named line,
/// channel or key source of the simulated charger, reached over the line protocol of
/// Hardware-sim/PROTOCOL.md on one TCP connection.
///
/// Nothing connects until the first open (or `connect()`); a lost simulator makes calls throw
/// `disconnected` and the next call after `reconnectInterval` reconnects and re-opens
/// everything, so the simulator can be restarted under a running firmware. Input levels and
/// ADC values are served from what the simulator pushes, so reading them costs no round trip.
public final class SimBackend: HardwareBackend, InputChangeSignalling {
    public let backendName = "sim"
    let connection: SimConnection
    private let modbusBusFactory: (@Sendable (ModbusBusConfig) throws -> any ModbusBus)?

    /// - Parameters:
    ///   - requestTimeout: the longest a call waits for the simulator's reply (and for connect).
    ///   - reconnectInterval: the shortest time between two connection attempts.
    ///   - firmwareName: sent in `hello`, shown in the simulator's log.
    ///   - modbusBusFactory: opens Modbus buses. The simulator serves its meters over real
    ///     Modbus TCP, so the assembly passes the linux backend's libmodbus bus here
    ///     (`{ try LinuxBackend().openModbusBus($0) }`); without one, `openModbusBus` throws.
    public init(host: String = "127.0.0.1", port: UInt16 = 8089,
                requestTimeout: EVSEDuration = .milliseconds(1_000),
                reconnectInterval: EVSEDuration = .milliseconds(250),
                firmwareName: String = "evsed",
                modbusBusFactory: (@Sendable (ModbusBusConfig) throws -> any ModbusBus)? = nil) {
        self.modbusBusFactory = modbusBusFactory
        connection = SimConnection(host: host, port: port, requestTimeout: requestTimeout,
                                   reconnectInterval: reconnectInterval,
                                   firmwareName: firmwareName.isSimField ? firmwareName : "evsed")
    }

    /// "host:port" of the simulator.
    public var endpoint: String { "\(connection.host):\(connection.port)" }

    /// Connects and says hello now (otherwise the first open does). Throws `disconnected`
    /// when the simulator cannot be reached.
    public func connect() throws { try connection.ensureConnected() }

    public var isConnected: Bool { connection.isConnected }

    /// The number of connectors the simulator announced in its hello; nil before connecting.
    public var connectorCount: Int? { connection.state.locked { $0.connectorCount } }

    /// Adds a `firmware.mark` event with `text` to the simulator's event stream (used to line
    /// up firmware actions with simulator events in latency measurements). Whitespace becomes
    /// `_`, since a protocol field carries none.
    public func mark(_ text: String) throws {
        var field = String(text.map { $0.isWhitespace ? "_" : $0 })
        if field.isEmpty { field = "_" }
        try connection.request(["mark", field], device: "simulator link")
    }

    /// The simulator pushes every input change (levels, ADC values, keys) over the link, and
    /// the link's reader thread (`sim-link`) passes each one on as a wake-up; a lost link too.
    public func signalInputChanges(to wake: LoopWakeUp) { connection.inputChanges.connect(wake) }
    public var signalsEveryInputChange: Bool { true }

    /// Closes the connection for good; further calls throw `disconnected`.
    public func close() { connection.close() }

    private func simName(_ name: String, what: String) throws -> String {
        guard name.isSimField else {
            throw HardwareError(.invalidArgument, device: "\(what) \"\(name)\"", "simulator names are non-empty and contain no spaces")
        }
        return name
    }

    public func openGPIOLine(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any GPIOLine {
        guard case let .name(raw) = address else {
            throw HardwareError(.invalidArgument, device: address.description,
                                "the simulator's lines are named (e.g. \"c1.contactor.coil\"), not chip/offset")
        }
        let name = try simName(raw, what: "line")
        let registration: SimConnection.Registration
        switch config.direction {
        case let .output(initial):
            guard config.edges == .none else {
                throw HardwareError(.invalidArgument, device: name, "edge detection is only for input lines")
            }
            registration = .gpioOutput(level: initial != config.activeLow)
        case .input:
            registration = .gpioInput(edges: Self.physicalEdges(config.edges, activeLow: config.activeLow))
        }
        try connection.ensureConnected()
        try connection.open(name, registration)
        return SimGPIOLine(name: name, config: config, connection: connection)
    }

    /// The simulator sees physical edges; an active-low line's logical rising edge is a
    /// physical falling one.
    static func physicalEdges(_ edges: GPIOEdgeDetection, activeLow: Bool) -> GPIOEdgeDetection {
        guard activeLow else { return edges }
        switch edges {
        case .rising: return .falling
        case .falling: return .rising
        case .both, .none: return edges
        }
    }

    public func openPWM(_ address: PWMAddress) throws -> any PWMOutput {
        guard case let .named(raw) = address else {
            throw HardwareError(.invalidArgument, device: address.description, "the simulator's PWM channels are named (e.g. \"c1.cp.pwm\")")
        }
        let name = try simName(raw, what: "pwm")
        try connection.ensureConnected()
        try connection.open(name, .pwm(setArguments: nil))
        return SimPWMOutput(name: name, connection: connection)
    }

    public func openLED(_ address: LEDAddress) throws -> any KernelLED {
        guard case let .named(raw) = address else {
            throw HardwareError(.invalidArgument, device: address.description, "the simulator's LEDs are named (e.g. \"c1.led.green.class\")")
        }
        let name = try simName(raw, what: "led")
        try connection.ensureConnected()
        try connection.open(name, .led(lastCommand: nil))
        return SimKernelLED(name: name, connection: connection)
    }

    public func openADC(_ address: ADCAddress) throws -> any ADCInput {
        guard case let .named(raw) = address else {
            throw HardwareError(.invalidArgument, device: address.description, "the simulator's ADC channels are named (e.g. \"c1.cp.high\")")
        }
        let name = try simName(raw, what: "adc")
        try connection.ensureConnected()
        try connection.open(name, .adc)
        return SimADCInput(name: name, connection: connection)
    }

    /// There is no Modbus on the simulator's HAL socket: its meters are Modbus TCP servers,
    /// opened through `modbusBusFactory`.
    public func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus {
        if let modbusBusFactory { return try modbusBusFactory(config) }
        throw HardwareError(.invalidArgument, device: config.name,
                            "the sim backend was given no Modbus bus factory; the simulator's meters are Modbus TCP servers read through the linux backend's libmodbus bus")
    }

    public func openI2CDevice(bus: String, address: UInt8) throws -> any I2CDevice {
        let busName = try simName(bus, what: "i2c bus")
        guard address <= 0x7f else {
            throw HardwareError(.invalidArgument, device: "i2c \(busName)@\(address)", "not a 7-bit I2C address")
        }
        return SimI2CDevice(bus: busName, address: address, connection: connection)
    }

    public func openKeyEventSource(device: String) throws -> any KeyEventSource {
        let name = try simName(device, what: "keys")
        try connection.ensureConnected()
        try connection.open(name, .keys)
        return SimKeyEventSource(name: name, connection: connection)
    }
}
