/// Why a JSON text was refused, and where (byte offset from the start of the input).
public struct JSONParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start or continue the value being read.
        case unexpectedByte(UInt8)
        /// A number that does not follow the RFC 8259 grammar.
        case invalidNumber
        /// A number too large for a `Double` (e.g. `1e400`).
        case numberOutOfRange
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        case invalidEscape
        /// A `\u` escape that is a lone surrogate half.
        case invalidUnicodeEscape
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString
        /// Bytes that are not well-formed UTF-8.
        case invalidUTF8
        /// The same member name twice in one object.
        case duplicateKey(String)
        /// Non-whitespace after the top-level value.
        case trailingData
        /// Nesting deeper than `Limits.maxDepth`.
        case tooDeep
        /// Input longer than `Limits.maxBytes`.
        case tooLarge
        /// More values in total than `Limits.maxValues`.
        case tooManyValues
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b):
            if b >= 0x20 && b < 0x7F {
                what = "unexpected character '\(Character(Unicode.Scalar(b)))'"
            } else {
                what = "unexpected byte 0x\(String(b, radix: 16))"
            }
        case .invalidNumber: what = "invalid number"
        case .numberOutOfRange: what = "number out of range"
        case .invalidEscape: what = "invalid escape sequence"
        case .invalidUnicodeEscape: what = "invalid \\u escape (lone surrogate)"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .invalidUTF8: what = "invalid UTF-8"
        case .duplicateKey(let key): what = "duplicate key \"\(key)\""
        case .trailingData: what = "data after the JSON value"
        case .tooDeep: what = "nesting too deep"
        case .tooLarge: what = "input too large"
        case .tooManyValues: what = "too many values"
        }
        return "\(what) at byte \(offset)"
    }
}
