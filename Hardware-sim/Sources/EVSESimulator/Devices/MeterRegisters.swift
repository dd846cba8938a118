import Drivers
import HAL

/// Eastron SDM630 input registers (float32, high word first), the simulator's default meter
/// until a board file names another map from `Board/meters/`.
public enum SDM630 {
    public static let registerMap: MeterRegisterMap = {
        func f(_ a: UInt16, _ scale: Double = 1) -> RegisterDefinition {
            RegisterDefinition(function: .readInputRegisters, address: a, type: .float32, wordOrder: .highFirst, scale: scale)
        }
        return MeterRegisterMap(name: "sdm630", manufacturer: "Eastron", model: "SDM630", registers: [
            .voltageL1: f(0x0000), .voltageL2: f(0x0002), .voltageL3: f(0x0004),
            .currentL1: f(0x0006), .currentL2: f(0x0008), .currentL3: f(0x000A),
            .activePowerL1: f(0x000C), .activePowerL2: f(0x000E), .activePowerL3: f(0x0010),
            .activePowerTotal: f(0x0034),
            .powerFactor: f(0x003E),
            .frequency: f(0x0046),
            .energyImported: f(0x0048, 1000), .energyExported: f(0x004A, 1000),
        ])
    }()
}

/// Turns measured values into the registers a meter would hold.
public enum MeterRegisterImage {
    /// The 16-bit words of one value in the register's type and word order. The value is in the
    /// firmware's unit; the register holds value / scale.
    public static func encode(_ value: Double, _ def: RegisterDefinition) -> [UInt16] {
        let raw = def.scale == 0 ? value : value / def.scale
        var words: [UInt16]
        switch def.type {
        case .float32:
            let bits = Float(raw).bitPattern
            words = [UInt16(bits >> 16), UInt16(bits & 0xFFFF)]
        case .int16:
            words = [UInt16(bitPattern: Int16(clamping: Int64(exactly: raw.rounded()) ?? 0))]
        case .uint16:
            words = [UInt16(clamping: Int64(exactly: raw.rounded()) ?? 0)]
        case .int32:
            let v = UInt32(bitPattern: Int32(clamping: Int64(exactly: raw.rounded()) ?? 0))
            words = [UInt16(v >> 16), UInt16(v & 0xFFFF)]
        case .uint32:
            let v = UInt32(clamping: Int64(exactly: raw.rounded()) ?? 0)
            words = [UInt16(v >> 16), UInt16(v & 0xFFFF)]
        case .uint64:
            let v = raw <= 0 ? 0 : UInt64(exactly: raw.rounded()) ?? UInt64.max
            words = [UInt16(v >> 48), UInt16((v >> 32) & 0xFFFF), UInt16((v >> 16) & 0xFFFF), UInt16(v & 0xFFFF)]
        }
        if def.wordOrder == .lowFirst { words.reverse() }
        return words
    }

    /// All registers of one function code: address → word.
    public static func registers(_ map: MeterRegisterMap, function: ModbusFunction,
                                 values: [Measurand: Double]) -> [UInt16: UInt16] {
        var image: [UInt16: UInt16] = [:]
        for (measurand, def) in map.registers where def.function == function {
            let value = values[measurand] ?? 0
            // The drivers' encoder is the one the firmware decodes with; ours covers what it refuses.
            let words = (try? RegisterEncoder.encode(value, def)) ?? encode(value, def)
            for (i, w) in words.enumerated() { image[def.address &+ UInt16(i)] = w }
        }
        return image
    }
}
