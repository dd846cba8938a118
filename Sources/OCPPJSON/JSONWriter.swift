/// Compact JSON output: no whitespace, members in the object's order, minimal escaping
/// (only `"`, `\` and control characters; non-ASCII text is written as UTF-8).
///
/// Integers are written without a fraction; doubles in Swift's shortest round-trip form
/// (`description`), so `parse(write(v)) == v` for every finite value. JSON has no NaN or
/// infinity: a non-finite double is written as `null`.
public enum JSONWriter {
    public static func write(_ value: JSONValue) -> [UInt8] {
        var out = Output(capacity: 256)
        out.append(value)
        return out.bytes()
    }

    public static func writeString(_ value: JSONValue) -> String {
        var out = Output(capacity: 256)
        out.append(value)
        return out.string()
    }

    static let hexDigits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                           UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66)

    /// The text being written: a buffer that doubles when full. Not an `[UInt8]`: every
    /// append to an array checks that its storage is unique and wide enough, and a frame is
    /// written a byte or a short run at a time (a one-key GetConfiguration answer made about
    /// 40 appends, and the array's checks were half the writer's cost).
    struct Output: ~Copyable {
        private var base: UnsafeMutablePointer<UInt8>
        private var count = 0
        private var capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit { base.deallocate() }

        consuming func bytes() -> [UInt8] {
            Array(UnsafeBufferPointer(start: base, count: count))
        }

        /// Valid UTF-8 by construction (the input strings' own bytes, ASCII around them), which
        /// the String initializer checks once more.
        consuming func string() -> String {
            let count = count, base = base
            return String(unsafeUninitializedCapacity: count) { target in
                _ = target.initialize(from: UnsafeBufferPointer(start: base, count: count))
                return count
            }
        }

        private mutating func reserve(_ more: Int) {
            guard count + more > capacity else { return }
            let newCapacity = max(capacity * 2, count + more)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }

        mutating func append(_ byte: UInt8) {
            reserve(1)
            base[count] = byte
            count += 1
        }

        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            reserve(bytes.count)
            (base + count).update(from: source, count: bytes.count)
            count += bytes.count
        }

        mutating func append(literal: StaticString) {
            append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }

        mutating func append(_ value: JSONValue) {
            switch value {
            case .null: append(literal: "null")
            case .bool(let b): append(literal: b ? "true" : "false")
            case .integer(let i): appendInteger(i)
            case .double(let d):
                if d.isFinite {
                    var text = d.description
                    text.withUTF8 { append($0) }
                } else {
                    append(literal: "null")
                }
            case .string(let s): appendString(s)
            case .array(let elements):
                append(UInt8(ascii: "["))
                var first = true
                for element in elements {
                    if !first { append(UInt8(ascii: ",")) }
                    first = false
                    append(element)
                }
                append(UInt8(ascii: "]"))
            case .object(let object):
                append(UInt8(ascii: "{"))
                let keys = object.keys, values = object.values
                for i in keys.indices {
                    if i > 0 { append(UInt8(ascii: ",")) }
                    appendString(keys[i])
                    append(UInt8(ascii: ":"))
                    append(values[i])
                }
                append(UInt8(ascii: "}"))
            }
        }

        mutating func appendInteger(_ value: Int64) {
            // At most 20 characters: a sign and 19 digits.
            reserve(20)
            if value == 0 { append(UInt8(ascii: "0")); return }
            if value < 0 { append(UInt8(ascii: "-")) }
            // Work on the magnitude as UInt64 so Int64.min is fine.
            var magnitude = value.magnitude
            var digits = 0
            var probe = magnitude
            while probe > 0 { probe /= 10; digits += 1 }
            var at = count + digits
            while magnitude > 0 {
                at -= 1
                base[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            count += digits
        }

        mutating func appendString(_ string: String) {
            append(UInt8(ascii: "\""))
            var string = string
            string.withUTF8 { bytes in
                var runStart = 0
                for i in 0..<bytes.count {
                    let b = bytes[i]
                    guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                    append(UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                    runStart = i + 1
                    append(UInt8(ascii: "\\"))
                    switch b {
                    case 0x22: append(UInt8(0x22))
                    case 0x5C: append(UInt8(0x5C))
                    case 0x0A: append(UInt8(ascii: "n"))
                    case 0x0D: append(UInt8(ascii: "r"))
                    case 0x09: append(UInt8(ascii: "t"))
                    case 0x08: append(UInt8(ascii: "b"))
                    case 0x0C: append(UInt8(ascii: "f"))
                    default:
                        append(literal: "u00")
                        withUnsafeBytes(of: JSONWriter.hexDigits) { hex in
                            append(hex[Int(b >> 4)])
                            append(hex[Int(b & 0xF)])
                        }
                    }
                }
                append(UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
            append(UInt8(ascii: "\""))
        }
    }
}
