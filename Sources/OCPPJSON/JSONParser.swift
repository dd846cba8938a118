/// Strict RFC 8259 parser over UTF-8 bytes, hardened against hostile input: every limit is
/// checked before work proportional to it is done, and nothing recurses deeper than
/// `Limits.maxDepth`.
///
/// Strict means: no comments, no trailing commas, no leading zeros, no NaN/Infinity, no raw
/// control characters in strings, no lone surrogates, no duplicate keys, well-formed UTF-8 only
/// (a leading byte-order mark is refused too), nothing but whitespace after the value.
public enum JSONParser {
    public struct Limits: Sendable, Hashable {
        /// Longest accepted input. A SendLocalList with 10,000 entries is about 1 MB.
        public var maxBytes: Int
        /// Deepest accepted nesting of arrays/objects. OCPP payloads nest less than 8 deep.
        public var maxDepth: Int
        /// Most values (scalars, arrays, objects) in one document.
        public var maxValues: Int

        public init(maxBytes: Int = 8 << 20, maxDepth: Int = 64, maxValues: Int = 1_000_000) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxValues = maxValues
        }

        public static let `default` = Limits()
    }

    public static func parse(_ bytes: some Collection<UInt8>, limits: Limits = .default)
        throws(JSONParseError) -> JSONValue
    {
        if let result = bytes.withContiguousStorageIfAvailable({ parseCapturingError(buffer: $0, limits: limits) }) {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { parseCapturingError(buffer: $0, limits: limits) }.get()
    }

    public static func parse(_ text: String, limits: Limits = .default) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8 { parseCapturingError(buffer: $0, limits: limits) }.get()
    }

    /// The stdlib's buffer accessors are `rethrows`, which erases the error type; carry it out
    /// as a `Result` instead.
    static func parseCapturingError(buffer: UnsafeBufferPointer<UInt8>, limits: Limits)
        -> Result<JSONValue, JSONParseError>
    {
        do throws(JSONParseError) {
            return .success(try parse(buffer: buffer, limits: limits))
        } catch {
            return .failure(error)
        }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, limits: Limits) throws(JSONParseError) -> JSONValue {
        guard buffer.count <= limits.maxBytes else { throw JSONParseError(.tooLarge, at: limits.maxBytes) }
        var reader = Reader(bytes: buffer, limits: limits)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        guard reader.position == buffer.count else { throw JSONParseError(.trailingData, at: reader.position) }
        return value
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONParser.Limits
    var position = 0
    var valueCount = 0
    /// Reused across strings that contain escapes.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    @inline(__always)
    func peek() throws(JSONParseError) -> UInt8 {
        guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
        return bytes[position]
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        valueCount += 1
        guard valueCount <= limits.maxValues else { throw JSONParseError(.tooManyValues, at: position) }
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw JSONParseError(.unexpectedByte(byte), at: position)
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for i in 0..<count {
            guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
            guard bytes[position] == start[i] else {
                throw JSONParseError(.unexpectedByte(bytes[position]), at: position)
            }
            position += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep, at: position) }
        position += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            let keyOffset = position
            let byte = try peek()
            guard byte == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(byte), at: position) }
            let key = try parseString()
            guard object.position(of: key) == nil else { throw JSONParseError(.duplicateKey(key), at: keyOffset) }
            skipWhitespace()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte(colon), at: position) }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            object.append(uniqueKey: key, value)
            skipWhitespace()
            let next = try peek()
            position += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "}") { return .object(object) }
            throw JSONParseError(.unexpectedByte(next), at: position - 1)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw JSONParseError(.tooDeep, at: position) }
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            let next = try peek()
            position += 1
            if next == UInt8(ascii: ",") { continue }
            if next == UInt8(ascii: "]") { return .array(elements) }
            throw JSONParseError(.unexpectedByte(next), at: position - 1)
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        var isInteger = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        // int = zero / ( digit1-9 *DIGIT )
        guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw JSONParseError(.invalidNumber, at: start) }
        } else if isDigit(bytes[position]) {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        } else {
            throw JSONParseError(.invalidNumber, at: start)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw JSONParseError(.invalidNumber, at: start) }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw JSONParseError(.invalidNumber, at: start) }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        let digits = UnsafeBufferPointer(rebasing: bytes[start..<position])
        if isInteger, let value = Self.exactInteger(digits) {
            return .integer(value)
        }
        // The grammar was checked above, so the stdlib's strtod-based parser sees only valid text.
        let text = String(decoding: digits, as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw JSONParseError(.numberOutOfRange, at: start) }
        return .double(value)
    }

    /// Int64 value of an integer literal, or nil when it does not fit.
    static func exactInteger(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let negative = digits[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        // Accumulate negatively so Int64.min fits.
        var value: Int64 = 0
        while i < digits.count {
            let digit = Int64(digits[i] &- UInt8(ascii: "0"))
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    @inline(__always)
    func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1  // opening quote
        let contentStart = position
        // Fast path: no escapes – validate the raw span once.
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let span = UnsafeBufferPointer(rebasing: bytes[contentStart..<position])
                position += 1
                return try makeString(span, offset: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw JSONParseError(.controlCharacterInString, at: position) }
            position += 1
        }
        guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
        // Slow path: decode escapes into scratch.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<position]))
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                let result = scratch.withUnsafeBufferPointer { span -> String? in
                    String(validating: span, as: UTF8.self)
                }
                guard let result else { throw JSONParseError(.invalidUTF8, at: start) }
                return result
            }
            if b < 0x20 { throw JSONParseError(.controlCharacterInString, at: position) }
            if b != UInt8(ascii: "\\") {
                scratch.append(b)
                position += 1
                continue
            }
            let escapeOffset = position
            position += 1
            guard position < bytes.count else { throw JSONParseError(.unexpectedEnd, at: position) }
            let e = bytes[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4(escapeOffset: escapeOffset)
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // High surrogate: a low one must follow as another \u escape.
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    else { throw JSONParseError(.invalidUnicodeEscape, at: escapeOffset) }
                    position += 2
                    let low = try readHex4(escapeOffset: escapeOffset)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw JSONParseError(.invalidUnicodeEscape, at: escapeOffset)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw JSONParseError(.invalidUnicodeEscape, at: escapeOffset)
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw JSONParseError(.invalidUnicodeEscape, at: escapeOffset)
                }
                UTF8.encode(unicode) { scratch.append($0) }
            default:
                throw JSONParseError(.invalidEscape, at: escapeOffset)
            }
        }
        throw JSONParseError(.unexpectedEnd, at: position)
    }

    mutating func readHex4(escapeOffset: Int) throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw JSONParseError(.unexpectedEnd, at: bytes.count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidEscape, at: escapeOffset)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    func makeString(_ span: UnsafeBufferPointer<UInt8>, offset: Int) throws(JSONParseError) -> String {
        // ASCII is the common case in OCPP; it needs no validation beyond the control-character
        // check already done.
        var ascii = true
        for b in span where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: span, as: UTF8.self) }
        guard let s = String(validating: span, as: UTF8.self) else { throw JSONParseError(.invalidUTF8, at: offset) }
        return s
    }
}
