import HAL

/// The kernel's `struct input_event` as read from /dev/input/eventN:
/// `struct timeval time; __u16 type; __u16 code; __s32 value;` with the timeval made of two C
/// longs (24 bytes on 64-bit, 16 on 32-bit ABIs with a 32-bit time_t). Decoded from bytes so
/// the layout is explicit and testable.
struct EvdevEvent: Hashable, Sendable {
    static let EV_SYN: UInt16 = 0
    static let EV_KEY: UInt16 = 1

    var seconds: Int
    var microseconds: Int
    var type: UInt16
    var code: UInt16
    var value: Int32

    /// Size of one event for this process's ABI.
    static let size = 2 * MemoryLayout<Int>.size + 8

    /// Decodes every whole event in `bytes` (native byte order); a trailing partial event is
    /// ignored (the kernel only returns whole ones).
    static func decode(_ bytes: [UInt8], longSize: Int = MemoryLayout<Int>.size) -> [EvdevEvent] {
        let size = 2 * longSize + 8
        var out: [EvdevEvent] = []
        var at = 0
        while at + size <= bytes.count {
            func integer(_ offset: Int, _ width: Int) -> UInt64 {
                var v: UInt64 = 0
                for i in 0..<width {
                    let byte = UInt64(bytes[at + offset + i])
                    v |= isLittleEndian ? byte << (8 * i) : byte << (8 * (width - 1 - i))
                }
                return v
            }
            func signed(_ offset: Int, _ width: Int) -> Int {
                let raw = integer(offset, width)
                return width == 8 ? Int(Int64(bitPattern: raw)) : Int(Int32(truncatingIfNeeded: raw))
            }
            out.append(EvdevEvent(seconds: signed(0, longSize),
                                  microseconds: signed(longSize, longSize),
                                  type: UInt16(truncatingIfNeeded: integer(2 * longSize, 2)),
                                  code: UInt16(truncatingIfNeeded: integer(2 * longSize + 2, 2)),
                                  value: Int32(truncatingIfNeeded: integer(2 * longSize + 4, 4))))
            at += size
        }
        return out
    }

    static let isLittleEndian = 1.littleEndian == 1

    /// Key presses and releases; autorepeat (value 2) and non-key events are dropped because an
    /// RFID reader types each character once.
    var keyEvent: (code: UInt16, pressed: Bool)? {
        guard type == Self.EV_KEY, value == 0 || value == 1 else { return nil }
        return (code, value == 1)
    }
}
