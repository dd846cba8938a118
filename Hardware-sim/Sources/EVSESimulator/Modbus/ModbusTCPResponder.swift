import Drivers
import HAL

/// Modbus TCP request handling, without sockets: one request frame (MBAP header + PDU) in,
/// the response frame out, or nil for "no answer" (an offline meter, an unknown unit).
public enum ModbusTCPResponder {
    public enum Exception: UInt8, Sendable {
        case illegalFunction = 1, illegalDataAddress = 2, illegalDataValue = 3
    }

    /// What a unit answers with: its register images per function code, nil when it is offline.
    public typealias UnitLookup = (UInt8) -> UnitImage?

    public struct UnitImage: Sendable {
        public var registers: [ModbusFunction: [UInt16: UInt16]]
        public var online: Bool
        public init(registers: [ModbusFunction: [UInt16: UInt16]], online: Bool = true) {
            self.registers = registers
            self.online = online
        }
    }

    /// Bytes a complete frame needs, once the 7-byte header is in; nil while incomplete.
    public static func frameLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count >= 6 else { return nil }
        let s = bytes.startIndex
        return 6 + Int(bytes[s + 4]) << 8 + Int(bytes[s + 5])
    }

    public static func respond(to frame: [UInt8], units: UnitLookup) -> [UInt8]? {
        guard frame.count >= 8 else { return nil }
        let protocolID = UInt16(frame[2]) << 8 | UInt16(frame[3])
        let length = Int(frame[4]) << 8 | Int(frame[5])
        guard protocolID == 0, length == frame.count - 6 else { return nil }
        let unit = frame[6]
        let function = frame[7]
        guard let image = units(unit), image.online else { return nil }
        func reply(_ pdu: [UInt8]) -> [UInt8] {
            let len = pdu.count + 1
            return [frame[0], frame[1], 0, 0, UInt8(len >> 8), UInt8(len & 0xFF), unit] + pdu
        }
        func exception(_ e: Exception) -> [UInt8] { reply([function | 0x80, e.rawValue]) }
        guard let fc = ModbusFunction(rawValue: function) else { return exception(.illegalFunction) }
        guard frame.count == 12 else { return exception(.illegalDataValue) }
        let start = UInt16(frame[8]) << 8 | UInt16(frame[9])
        let count = UInt16(frame[10]) << 8 | UInt16(frame[11])
        guard (1...125).contains(count) else { return exception(.illegalDataValue) }
        // A real meter answers for its whole register space, gaps included; the simulated
        // one covers 0…(last mapped register) and reads gaps as 0.
        let regs = image.registers[fc] ?? [:]
        guard let top = regs.keys.max(), Int(start) + Int(count) - 1 <= Int(top) else {
            return exception(.illegalDataAddress)
        }
        var pdu: [UInt8] = [function, UInt8(count * 2)]
        for a in start..<(start + count) {
            let w = regs[a] ?? 0
            pdu.append(UInt8(w >> 8))
            pdu.append(UInt8(w & 0xFF))
        }
        return reply(pdu)
    }
}

extension Simulator {
    /// The register images of connector `unit`'s meter right now.
    public func meterImage(unit: UInt8) -> ModbusTCPResponder.UnitImage? {
        withWorld { world in
            if let grid = world.config.gridMeter, grid.unit == unit {
                let values = world.gridMeterValues()
                var regs: [ModbusFunction: [UInt16: UInt16]] = [:]
                for fc in ModbusFunction.allCases {
                    regs[fc] = MeterRegisterImage.registers(grid.map, function: fc, values: values)
                }
                return ModbusTCPResponder.UnitImage(registers: regs, online: !world.stationFaults.contains(.gridMeterOffline))
            }
            guard let i = world.connectors.firstIndex(where: { $0.id == Int(unit) }) else { return nil }
            let c = world.connectors[i]
            let values = world.meterValues(connector: i)
            var regs: [ModbusFunction: [UInt16: UInt16]] = [:]
            for fc in ModbusFunction.allCases {
                regs[fc] = MeterRegisterImage.registers(c.spec.meterMap, function: fc, values: values)
            }
            return ModbusTCPResponder.UnitImage(registers: regs, online: !c.faults.contains(.meterOffline))
        }
    }
}
