import HAL

/// What a Wiegand reader puts on D0/D1 for a card: a parity-framed bit string, each bit a
/// 50 µs low pulse (on D0 for 0, D1 for 1), pulses 2 ms apart.
public enum WiegandEncoder {
    public static let pulseWidth = EVSEDuration.microseconds(50)
    public static let bitInterval = EVSEDuration.milliseconds(2)

    /// Bits of a 26-bit (3 data bytes) or 34-bit (4 data bytes) frame, first sent first:
    /// even parity over the first half of the data, the data MSB first, odd parity over the
    /// second half.
    public static func frame(data: [UInt8]) -> [Bool] {
        var bits: [Bool] = []
        for byte in data { for i in (0..<8).reversed() { bits.append(byte >> i & 1 == 1) } }
        let half = bits.count / 2
        let evenParity = bits[..<half].filter { $0 }.count % 2 == 1
        let oddParity = bits[half...].filter { $0 }.count % 2 == 0
        return [evenParity] + bits + [oddParity]
    }

    /// The payload a reader of `format` sends for `uid` (byte 0 first): 26 bit carries 3
    /// bytes, 34 bit 4. A shorter UID is padded with leading zero bytes, a longer one is cut
    /// to its first bytes (as readers that print a 7-byte UID in 34 bit do).
    public static func payload(uid: [UInt8], bits: Int) -> [UInt8] {
        let n = (bits - 2) / 8
        if uid.count >= n { return Array(uid.prefix(n)) }
        return [UInt8](repeating: 0, count: n - uid.count) + uid
    }

    public static func frameBits(for uid: [UInt8], format: SimulatorConfig.WiegandFormat) -> Int {
        switch format {
        case let .bits(b): return b
        case .automatic: return uid.count <= 3 ? 26 : 34
        }
    }

    /// Edges on the D0/D1 lines (idle high) for `bits`, the first falling edge at `start`.
    public static func edges(bits: [Bool], start: MonotonicInstant) -> [(line: String, edge: GPIOEdge, at: MonotonicInstant)] {
        var out: [(String, GPIOEdge, MonotonicInstant)] = []
        for (i, bit) in bits.enumerated() {
            let line = bit ? "rfid.d1" : "rfid.d0"
            let t = start + bitInterval * Int64(i)
            out.append((line, .falling, t))
            out.append((line, .rising, t + pulseWidth))
        }
        return out
    }
}

/// Linux KEY_* codes a USB HID reader "types" a card number with.
public enum HIDKeyCodes {
    public static let enter: UInt16 = 28

    public static func code(for c: Character) -> UInt16? {
        switch c {
        case "1"..."9": return UInt16((c.asciiValue ?? 0x31) - 0x30 + 1)   // KEY_1 = 2 … KEY_9 = 10
        case "0": return 11
        case "A", "a": return 30
        case "B", "b": return 48
        case "C", "c": return 46
        case "D", "d": return 32
        case "E", "e": return 18
        case "F", "f": return 33
        default: return nil
        }
    }
}
