import HAL

/// Why registers could not be turned into a value or back.
public enum RegisterCodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The caller handed a different number of registers than the type occupies.
    case wrongRegisterCount(type: RegisterType, expected: Int, got: Int)
    /// The value (after dividing by the scale) does not fit the register type.
    case outOfRange(value: Double, type: RegisterType)
    /// NaN or infinity cannot be stored in an integer register.
    case notFinite(type: RegisterType)
    /// A scale of 0 (or NaN) cannot be inverted for encoding.
    case invalidScale(Double)

    public var description: String {
        switch self {
        case let .wrongRegisterCount(type, expected, got):
            return "\(type.rawValue) occupies \(expected) register(s), got \(got)"
        case let .outOfRange(value, type):
            return "raw value \(value) does not fit \(type.rawValue)"
        case let .notFinite(type):
            return "a non-finite value cannot be stored as \(type.rawValue)"
        case let .invalidScale(s):
            return "scale \(s) cannot be inverted"
        }
    }
}

/// Registers → value in the firmware's unit. Pure: no bus, no state.
public enum RegisterDecoder {
    /// The unscaled value the registers hold (integer types exactly, float32 widened).
    public static func decodeRaw(_ words: [UInt16], type: RegisterType, wordOrder: WordOrder) throws -> Double {
        let count = Int(type.registerCount)
        guard words.count == count else {
            throw RegisterCodingError.wrongRegisterCount(type: type, expected: count, got: words.count)
        }
        // Most significant word first, whatever the meter's order on the wire.
        let msbFirst = wordOrder == .highFirst ? words : Array(words.reversed())
        var bits: UInt64 = 0
        for w in msbFirst { bits = (bits << 16) | UInt64(w) }
        switch type {
        case .int16: return Double(Int16(bitPattern: UInt16(truncatingIfNeeded: bits)))
        case .uint16: return Double(UInt16(truncatingIfNeeded: bits))
        case .int32: return Double(Int32(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .uint32: return Double(UInt32(truncatingIfNeeded: bits))
        case .uint64: return Double(bits)
        case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        }
    }

    /// The value in the firmware's unit: raw × scale.
    public static func decode(_ words: [UInt16], _ definition: RegisterDefinition) throws -> Double {
        try decodeRaw(words, type: definition.type, wordOrder: definition.wordOrder) * definition.scale
    }
}

/// Value in the firmware's unit → registers, as a meter would serve them. The simulator and
/// the tests use it; floats are built here, never with libmodbus's float helpers (broken in
/// 3.1.6).
public enum RegisterEncoder {
    public static func encode(_ value: Double, _ definition: RegisterDefinition) throws -> [UInt16] {
        guard definition.scale != 0, definition.scale.isFinite else {
            throw RegisterCodingError.invalidScale(definition.scale)
        }
        return try encodeRaw(value / definition.scale, type: definition.type, wordOrder: definition.wordOrder)
    }

    /// Stores an unscaled value; integer types round to the nearest integer.
    public static func encodeRaw(_ raw: Double, type: RegisterType, wordOrder: WordOrder) throws -> [UInt16] {
        let bits: UInt64
        switch type {
        case .float32:
            bits = UInt64(Float(raw).bitPattern)
        case .int16:
            bits = UInt64(UInt16(bitPattern: try integer(raw, type, Int16.self)))
        case .uint16:
            bits = UInt64(try integer(raw, type, UInt16.self))
        case .int32:
            bits = UInt64(UInt32(bitPattern: try integer(raw, type, Int32.self)))
        case .uint32:
            bits = UInt64(try integer(raw, type, UInt32.self))
        case .uint64:
            bits = try integer(raw, type, UInt64.self)
        }
        let count = Int(type.registerCount)
        var msbFirst: [UInt16] = []
        msbFirst.reserveCapacity(count)
        for i in stride(from: count - 1, through: 0, by: -1) {
            msbFirst.append(UInt16(truncatingIfNeeded: bits >> (UInt64(i) * 16)))
        }
        return wordOrder == .highFirst ? msbFirst : Array(msbFirst.reversed())
    }

    private static func integer<T: FixedWidthInteger>(_ raw: Double, _ type: RegisterType, _: T.Type) throws -> T {
        guard raw.isFinite else { throw RegisterCodingError.notFinite(type: type) }
        guard let v = T(exactly: raw.rounded()) else {
            throw RegisterCodingError.outOfRange(value: raw, type: type)
        }
        return v
    }
}
