import Drivers
import HAL

/// A validated board description: one charger model's connectors and the HAL primitives
/// behind every driver. Produced only by `BoardLoader`, so holding one means the file was
/// checked (addresses unique, currents within what the hardware allows, meter maps found).
public struct BoardDescription: Sendable, Equatable {
    /// The file it was loaded from.
    public var file: String
    public var model: String
    public var backend: BackendChoice
    public var grid: GridConnection
    /// Modbus buses in file order.
    public var modbusBuses: [ModbusBusConfig]
    public var connectors: [ConnectorDescription]
    public var station: StationDescription

    public func connector(id: Int) -> ConnectorDescription? { connectors.first { $0.id == id } }
    public func modbusBus(named name: String) -> ModbusBusConfig? { modbusBuses.first { $0.name == name } }
}

public enum BackendChoice: Sendable, Equatable, CustomStringConvertible {
    case linux
    /// The hardware simulator's line-protocol socket (Hardware-sim/PROTOCOL.md).
    case sim(host: String, port: Int)

    public var description: String {
        switch self {
        case .linux: return "linux"
        case let .sim(host, port): return "sim (\(host):\(port))"
        }
    }
}

/// What the station may draw from the grid, per phase, and the meter at the connection point
/// that says how much of it the rest of the building already uses.
public struct GridConnection: Sendable, Equatable {
    /// The fuse rating of the grid connection, A per phase.
    public var maxCurrentAmps: Double
    public var phases: Int
    /// The meter at the connection point (house load, PV export and our chargers together);
    /// nil: the station only knows its own draw and shares `maxCurrentAmps` among its sessions.
    public var meter: MeterDescription?
    /// Kept free below the fuse on every phase, for what the grid meter cannot see coming (a
    /// load switching on between two polls). Only meaningful with a meter.
    public var marginAmps: Double
    /// A per connector while the grid meter is offline or its readings are implausible: a
    /// current the installer knows is safe whatever the house draws. 0 = no charging then.
    public var fallbackCurrentAmps: Double

    public static let defaultMarginAmps = 2.0
    public static let defaultFallbackCurrentAmps = 6.0

    public init(maxCurrentAmps: Double, phases: Int, meter: MeterDescription? = nil,
                marginAmps: Double = GridConnection.defaultMarginAmps,
                fallbackCurrentAmps: Double = GridConnection.defaultFallbackCurrentAmps) {
        self.maxCurrentAmps = maxCurrentAmps
        self.phases = phases
        self.meter = meter
        self.marginAmps = marginAmps
        self.fallbackCurrentAmps = fallbackCurrentAmps
    }
}

/// A GPIO line as the board wires it.
public struct GPIOLineRef: Sendable, Equatable, CustomStringConvertible {
    public var address: GPIOLineAddress
    public var activeLow: Bool
    public var bias: GPIOBias
    /// Inputs only: how long a level must hold before the driver believes it.
    public var debounce: EVSEDuration
    /// Where it was written, to point duplicate-use errors at both places.
    public var line: Int

    public init(address: GPIOLineAddress, activeLow: Bool = false, bias: GPIOBias = .asIs,
                debounce: EVSEDuration = .zero, line: Int = 0) {
        self.address = address
        self.activeLow = activeLow
        self.bias = bias
        self.debounce = debounce
        self.line = line
    }

    public func config(_ direction: GPIOLineConfig.Direction, edges: GPIOEdgeDetection = .none,
                       consumer: String = "evsed") -> GPIOLineConfig {
        GPIOLineConfig(direction: direction, activeLow: activeLow, bias: bias, edges: edges, consumer: consumer)
    }

    public var description: String {
        var s = address.description
        if activeLow { s += ", active-low" }
        if bias != .asIs { s += ", bias \(bias.rawValue)" }
        if debounce != .zero { s += ", debounce \(debounce)" }
        return s
    }
}

public struct PWMRef: Sendable, Equatable, CustomStringConvertible {
    public var address: PWMAddress
    /// `inversed` when the board's CP driver stage inverts the signal.
    public var polarity: PWMPolarity
    public var line: Int
    public var description: String {
        polarity == .normal ? address.description : "\(address), polarity inversed"
    }
    public init(address: PWMAddress, polarity: PWMPolarity = .normal, line: Int) {
        self.address = address
        self.polarity = polarity
        self.line = line
    }
}

public struct ADCRef: Sendable, Equatable, CustomStringConvertible {
    public var address: ADCAddress
    /// Pin volts → signal volts (the board's divider).
    public var calibration: ADCCalibration
    public var line: Int
    public var description: String {
        calibration == .identity ? address.description
            : "\(address), gain \(calibration.gain), offset \(calibration.offset) V"
    }
}

public struct ConnectorDescription: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Type 2 socket: the cable's ampacity comes from the proximity pilot; a lock holds the plug.
        case socket
        /// Fixed (tethered) cable with its rating in amps.
        case fixedCable(ratingAmps: Double)
    }

    public var id: Int
    public var kind: Kind
    public var phases: Int
    public var maxCurrentAmps: Double
    public var pilot: PilotDescription
    /// Sockets only.
    public var proximity: ProximityDescription?
    /// Sockets only.
    public var lock: CableLockDescription?
    public var contactor: ContactorDescription
    public var rcd: RCDDescription?
    public var meter: MeterDescription?
    public var led: StatusLEDDescription?

    /// The most this connector may ever offer (cable rating included).
    public var ceilingAmps: Double {
        if case let .fixedCable(rating) = kind { return min(rating, maxCurrentAmps) }
        return maxCurrentAmps
    }
}

public struct PilotDescription: Sendable, Equatable {
    public var pwm: PWMRef
    /// CP high level (positive plateau).
    public var high: ADCRef
    /// CP low level (negative plateau), for the diode check; optional on boards that cannot.
    public var low: ADCRef?
    /// How often a board whose ADCs cannot signal changes (plain IIO reads) is sampled, in Hz.
    /// Nil: the daemon's `--loop-interval-ms` / `--idle-interval-ms`. Boards whose inputs push
    /// their changes (the simulator) ignore it.
    public var sampleRateHz: Double?

    public init(pwm: PWMRef, high: ADCRef, low: ADCRef? = nil, sampleRateHz: Double? = nil) {
        self.pwm = pwm
        self.high = high
        self.low = low
        self.sampleRateHz = sampleRateHz
    }
}

public struct ProximityDescription: Sendable, Equatable {
    public var adc: ADCRef
    /// The PP pull-up resistor and its supply; with them the driver turns volts into ohms.
    public var pullUpOhms: Double
    public var supplyVolts: Double
}

public struct CableLockDescription: Sendable, Equatable {
    public enum Drive: Sendable, Equatable {
        /// The drive line is held at "lock" while locked.
        case level
        /// The lock motor gets a pulse of this length: on `drive` to lock, on `unlock` to unlock.
        case pulse(EVSEDuration)
    }
    public var drive: GPIOLineRef
    /// Pulse-driven locks with a separate unlock line.
    public var unlock: GPIOLineRef?
    public var mode: Drive
    public var feedback: GPIOLineRef?
    /// Feedback must confirm within this time, or the lock faults.
    public var timeout: EVSEDuration
}

public struct ContactorDescription: Sendable, Equatable {
    /// One or more relay coils switched together.
    public var coils: [GPIOLineRef]
    public var feedback: GPIOLineRef?
    /// Feedback must follow the command within this time (weld / failed-to-close).
    public var feedbackTimeout: EVSEDuration
    /// 1-phase/3-phase switching relay.
    public var phaseSwitch: PhaseSwitchDescription?
}

public struct PhaseSwitchDescription: Sendable, Equatable {
    /// The relay's output line (never active-low: `wiring` says what each level means).
    public var line: GPIOLineRef
    public var wiring: PhaseSwitchWiring
}

public struct RCDDescription: Sendable, Equatable {
    /// Active = tripped.
    public var trip: GPIOLineRef
    /// Self-test output, where the module has one.
    public var test: GPIOLineRef?
}

public struct MeterDescription: Sendable, Equatable {
    public var bus: String
    public var unit: UInt8
    public var map: MeterRegisterMap
    /// The file the map was loaded from.
    public var mapFile: String
    public var pollInterval: EVSEDuration
    /// A connector's meter while nothing is plugged in and the contactor is open (board
    /// `idle_poll_ms`, default 5 s or `poll_ms` if longer). The grid meter has one pace.
    public var idlePollInterval: EVSEDuration

    public static let defaultIdlePollInterval = EVSEDuration.milliseconds(5_000)
}

/// A status LED: discrete channels by colour (any subset of red, green, blue).
public struct StatusLEDDescription: Sendable, Equatable {
    public var red: LEDChannelRef?
    public var green: LEDChannelRef?
    public var blue: LEDChannelRef?
    public init(red: LEDChannelRef? = nil, green: LEDChannelRef? = nil, blue: LEDChannelRef? = nil) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}

/// One LED channel: an on/off GPIO line, a PWM channel (`{pwm: {...}}`) that lets the LED
/// breathe instead of blinking, or an LED class device (`{led_class: {name}}`) whose breathing
/// and blinking the kernel runs.
public enum LEDChannelRef: Sendable, Equatable {
    case gpio(GPIOLineRef)
    case pwm(PWMRef)
    case kernel(KernelLEDRef)
}

/// An LED class device: `/sys/class/leds/NAME` on Linux, a named LED on the simulator.
public struct KernelLEDRef: Sendable, Equatable, CustomStringConvertible {
    public var address: LEDAddress
    public var line: Int
    public var description: String { address.description }
    public init(address: LEDAddress, line: Int) {
        self.address = address
        self.line = line
    }
}

public struct StationDescription: Sendable, Equatable {
    public var rfid: RFIDReaderDescription?
    public var display: DisplayDescription?
    public var led: StatusLEDDescription?
    public var emergencyStop: GPIOLineRef?
    public var overTemperature: GPIOLineRef?
}

public enum RFIDReaderDescription: Sendable, Equatable {
    /// Wiegand D0/D1 lines; `bits` = the frame length the reader sends (26, 34, or raw).
    case wiegand(d0: GPIOLineRef, d1: GPIOLineRef, bits: Int, frameTimeout: EVSEDuration)
    /// A USB reader typing the UID as a keyboard: an evdev node (linux) or `rfid.keys` (sim).
    case hid(device: String)
}

public enum DisplayDescription: Sendable, Equatable {
    /// HD44780 character LCD on a PCF8574 I2C backpack.
    case hd44780(bus: String, address: UInt8, columns: Int, rows: Int, rom: HD44780Charset.ROM = .a00)
    /// SSD1306 128×64 graphic OLED on I2C (address 0x3C or 0x3D).
    case ssd1306(bus: String, address: UInt8)
    /// Text on the console/log.
    case console
}
