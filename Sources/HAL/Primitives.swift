/// The HAL primitives: the smallest pieces of hardware a driver is built from.
///
/// Backends (linux, sim, fake) implement these and nothing more; every piece of hardware logic
/// (debounce, weld detection, Wiegand decoding, register maps) lives in the drivers. All calls
/// are synchronous and short: none of them may block for longer than the timeout it is given.
/// Values are *logical*: a backend applies active-low inversion itself, as libgpiod does.

// MARK: GPIO

public enum GPIOBias: String, Sendable, CaseIterable { case asIs = "as-is", disabled, pullUp = "pull-up", pullDown = "pull-down" }
public enum GPIOEdgeDetection: String, Sendable, CaseIterable { case none, rising, falling, both }
public enum GPIOEdge: String, Sendable { case rising, falling }

/// Where a line is: by chip and offset, or by the line name the device tree gives it.
public enum GPIOLineAddress: Hashable, Sendable, CustomStringConvertible {
    case chipOffset(chip: String, offset: UInt32)  // chip: "gpiochip0" or "/dev/gpiochip0"
    case name(String)                               // e.g. "CONTACTOR_1"; for sim: "c1.contactor.coil"

    public var description: String {
        switch self {
        case let .chipOffset(chip, offset): return "\(chip) line \(offset)"
        case let .name(n): return "line \"\(n)\""
        }
    }
}

public struct GPIOLineConfig: Hashable, Sendable {
    public enum Direction: Hashable, Sendable { case input, output(initial: Bool) }
    public var direction: Direction
    public var activeLow: Bool
    public var bias: GPIOBias
    public var edges: GPIOEdgeDetection
    /// Shown as the consumer in `gpioinfo`.
    public var consumer: String

    public init(direction: Direction, activeLow: Bool = false, bias: GPIOBias = .asIs,
                edges: GPIOEdgeDetection = .none, consumer: String = "evsed") {
        self.direction = direction
        self.activeLow = activeLow
        self.bias = bias
        self.edges = edges
        self.consumer = consumer
    }
}

/// A logical-level change on an input line, stamped by the kernel (or simulator) on the
/// monotonic clock.
public struct GPIOEdgeEvent: Hashable, Sendable {
    public var edge: GPIOEdge
    public var timestamp: MonotonicInstant
    public init(edge: GPIOEdge, timestamp: MonotonicInstant) {
        self.edge = edge
        self.timestamp = timestamp
    }
}

public protocol GPIOLine: AnyObject, Sendable {
    var address: GPIOLineAddress { get }
    /// Logical value (true = active).
    func read() throws -> Bool
    /// Only for output lines.
    func write(_ active: Bool) throws
    /// Edge events received since the last call, oldest first. Never blocks. Only for input
    /// lines requested with edge detection; the backend buffers them (kernel timestamps kept)
    /// so a caller that drains every few milliseconds loses none of a Wiegand frame.
    func drainEdgeEvents() throws -> [GPIOEdgeEvent]
    /// Releases the line; further calls throw.
    func close()
}

// MARK: PWM

public enum PWMPolarity: String, Sendable { case normal, inversed }

/// A PWM channel (Linux: /sys/class/pwm/pwmchipN/pwmM).
public protocol PWMOutput: AnyObject, Sendable {
    var name: String { get }
    /// Sets period and duty together (in nanoseconds). duty must be ≤ period.
    func configure(periodNanoseconds: UInt64, dutyNanoseconds: UInt64) throws
    func setPolarity(_ polarity: PWMPolarity) throws
    func setEnabled(_ enabled: Bool) throws
}

// MARK: LED class device

/// One point of a kernel LED pattern: the brightness (0…1) the LED has at this point, and how
/// long it then takes to reach the next point's brightness (the kernel ramps linearly). A
/// zero duration makes a jump.
public struct LEDPatternPoint: Hashable, Sendable {
    public var brightness: Double
    public var milliseconds: Int
    public init(brightness: Double, milliseconds: Int) {
        self.brightness = min(1, max(0, brightness))
        self.milliseconds = max(0, milliseconds)
    }

    /// What every `KernelLED.runPattern` checks before it writes anything: a repeating pattern
    /// needs at least two points.
    public static func check(_ pattern: [LEDPatternPoint], device: String) throws {
        guard pattern.count >= 2 else {
            throw HardwareError(.invalidArgument, device: device, "a pattern needs at least two points, got \(pattern.count)")
        }
    }
}

/// An LED the kernel drives (Linux: an LED class device, /sys/class/leds/NAME, e.g. one of
/// `leds-pwm` or `leds-gpio`). The kernel's `pattern` trigger repeats a brightness pattern by
/// itself, so a breathing or blinking LED costs the firmware one write when the pattern
/// changes, not one per brightness step.
public protocol KernelLED: AnyObject, Sendable {
    var name: String { get }
    /// A steady brightness, 0…1, stopping any pattern.
    func setBrightness(_ brightness: Double) throws
    /// Repeats `pattern` (at least two points) from now until the next call.
    func runPattern(_ pattern: [LEDPatternPoint]) throws
}

public enum LEDAddress: Hashable, Sendable, CustomStringConvertible {
    /// /sys/class/leds/<name>, e.g. "evse:green:status".
    case sysfs(String)
    /// A named LED of the simulator or the fake backend, e.g. "c1.led.green.class".
    case named(String)
    public var description: String {
        switch self {
        case let .sysfs(n): return "leds/\(n)"
        case let .named(n): return "led \"\(n)\""
        }
    }
}

// MARK: ADC

/// An ADC channel. Returns volts at the ADC pin: IIO's (raw + offset) × scale, converted
/// from millivolts. The board's calibration (pilot divider gain/offset) is applied by the
/// driver through `ADCCalibration`, not here.
public protocol ADCInput: AnyObject, Sendable {
    var name: String { get }
    func readVolts() throws -> Double
}

/// volts_at_signal = volts_at_pin × gain + offset. Boards give gain/offset for their divider.
public struct ADCCalibration: Hashable, Sendable {
    public var gain: Double
    public var offset: Double
    public init(gain: Double = 1, offset: Double = 0) {
        self.gain = gain
        self.offset = offset
    }
    public static let identity = ADCCalibration()
    public func apply(_ pinVolts: Double) -> Double { pinVolts * gain + offset }
}

// MARK: Modbus

public enum ModbusFunction: UInt8, Sendable, CaseIterable {
    case readHoldingRegisters = 3
    case readInputRegisters = 4
}

/// A Modbus master on one bus (an RS-485 line or a TCP connection). Requests are synchronous
/// and bounded by the bus's response timeout; a dropped link is reconnected on the next call.
public protocol ModbusBus: AnyObject, Sendable {
    var name: String { get }
    func readRegisters(unit: UInt8, function: ModbusFunction, address: UInt16, count: UInt16) throws -> [UInt16]
    func writeRegisters(unit: UInt8, address: UInt16, values: [UInt16]) throws
}

// MARK: I2C

/// One device on an I2C bus (Linux: /dev/i2c-N with I2C_SLAVE set to `address`).
public protocol I2CDevice: AnyObject, Sendable {
    var bus: String { get }
    var address: UInt8 { get }
    func write(_ bytes: [UInt8]) throws
}

// MARK: Input events (evdev)

/// A key event from an input device (Linux: /dev/input/eventN; a USB RFID reader that
/// types the card number as a keyboard). `code` is the Linux KEY_* code.
public struct KeyEvent: Hashable, Sendable {
    public var code: UInt16
    public var pressed: Bool
    public var timestamp: MonotonicInstant
    public init(code: UInt16, pressed: Bool, timestamp: MonotonicInstant) {
        self.code = code
        self.pressed = pressed
        self.timestamp = timestamp
    }
}

public protocol KeyEventSource: AnyObject, Sendable {
    var name: String { get }
    /// Events since the last call, oldest first. Never blocks.
    func drainKeyEvents() throws -> [KeyEvent]
}

// MARK: Backend

/// A backend hands out primitives. One per board; chosen by the board file.
public protocol HardwareBackend: AnyObject, Sendable {
    var backendName: String { get }
    func openGPIOLine(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any GPIOLine
    func openPWM(_ address: PWMAddress) throws -> any PWMOutput
    func openLED(_ address: LEDAddress) throws -> any KernelLED
    func openADC(_ address: ADCAddress) throws -> any ADCInput
    func openModbusBus(_ config: ModbusBusConfig) throws -> any ModbusBus
    func openI2CDevice(bus: String, address: UInt8) throws -> any I2CDevice
    func openKeyEventSource(device: String) throws -> any KeyEventSource
}

public enum PWMAddress: Hashable, Sendable, CustomStringConvertible {
    /// /sys/class/pwm/pwmchip<chip>/pwm<channel>
    case sysfs(chip: UInt32, channel: UInt32)
    /// A named channel of the simulator or the fake backend, e.g. "c1.cp.pwm".
    case named(String)
    public var description: String {
        switch self {
        case let .sysfs(chip, channel): return "pwmchip\(chip)/pwm\(channel)"
        case let .named(n): return "pwm \"\(n)\""
        }
    }
}

public enum ADCAddress: Hashable, Sendable, CustomStringConvertible {
    /// /sys/bus/iio/devices/<device>/in_<channel>_raw; device is "iio:deviceN" or the
    /// device's `name` attribute (e.g. "ads1115"); channel e.g. "voltage0".
    case iio(device: String, channel: String)
    /// A named channel of the simulator or the fake backend, e.g. "c1.cp.high".
    case named(String)
    public var description: String {
        switch self {
        case let .iio(device, channel): return "iio \(device)/\(channel)"
        case let .named(n): return "adc \"\(n)\""
        }
    }
}

public struct ModbusBusConfig: Hashable, Sendable {
    public enum Parity: String, Sendable { case none, even, odd }
    public enum Link: Hashable, Sendable {
        /// RS-485 / RS-232 serial line: device path, baud rate, parity, data bits, stop bits,
        /// whether to switch the transceiver to RS-485 mode (TIOCSRS485).
        case rtu(device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int, rs485: Bool)
        case tcp(host: String, port: Int)
    }
    public var name: String
    public var link: Link
    public var responseTimeout: EVSEDuration

    public init(name: String, link: Link, responseTimeout: EVSEDuration = .milliseconds(500)) {
        self.name = name
        self.link = link
        self.responseTimeout = responseTimeout
    }
}
