import HAL

/// What an energy meter measures, in the units the firmware uses everywhere:
/// V, A, W, Wh, Hz and a unitless power factor. Raw values are multiplied by a register's
/// `scale` to reach these units (e.g. a kWh register has scale 1000).
public enum Measurand: String, CaseIterable, Hashable, Sendable {
    case voltageL1 = "voltage.l1", voltageL2 = "voltage.l2", voltageL3 = "voltage.l3"
    case currentL1 = "current.l1", currentL2 = "current.l2", currentL3 = "current.l3"
    case activePowerTotal = "power.active.total"
    case activePowerL1 = "power.active.l1", activePowerL2 = "power.active.l2", activePowerL3 = "power.active.l3"
    case energyImported = "energy.active.import"
    case energyExported = "energy.active.export"
    case frequency = "frequency"
    case powerFactor = "power_factor"
}

/// How a value is laid out in 16-bit registers.
public enum RegisterType: String, CaseIterable, Hashable, Sendable {
    case int16, uint16, int32, uint32, uint64, float32

    public var registerCount: UInt16 {
        switch self {
        case .int16, .uint16: return 1
        case .int32, .uint32, .float32: return 2
        case .uint64: return 4
        }
    }
}

/// Order of the 16-bit words of a multi-register value. Bytes within a word are always
/// big-endian (that is Modbus); meters differ only in which word comes first.
public enum WordOrder: String, CaseIterable, Hashable, Sendable {
    /// Most significant word at the lowest address (Eastron, ABB, most meters).
    case highFirst = "high-first"
    /// Least significant word at the lowest address (Carlo Gavazzi EM340, some others).
    case lowFirst = "low-first"
}

public struct RegisterDefinition: Hashable, Sendable {
    public var function: ModbusFunction
    public var address: UInt16
    public var type: RegisterType
    public var wordOrder: WordOrder
    /// Multiplies the raw value to reach the firmware's unit for the measurand.
    public var scale: Double

    public init(function: ModbusFunction, address: UInt16, type: RegisterType,
                wordOrder: WordOrder = .highFirst, scale: Double = 1) {
        self.function = function
        self.address = address
        self.type = type
        self.wordOrder = wordOrder
        self.scale = scale
    }
}

/// A meter's register map, loaded from a data file in `Board/meters/` (never written as code).
public struct MeterRegisterMap: Hashable, Sendable {
    /// File stem, e.g. "sdm630"; what a board file names.
    public var name: String
    public var manufacturer: String
    public var model: String
    public var registers: [Measurand: RegisterDefinition]

    public init(name: String, manufacturer: String, model: String, registers: [Measurand: RegisterDefinition]) {
        self.name = name
        self.manufacturer = manufacturer
        self.model = model
        self.registers = registers
    }
}
