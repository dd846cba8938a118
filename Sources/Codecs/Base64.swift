/// Standard base64 (RFC 4648 §4) as OCPP messages (firmware signatures, certificates) and HTTP
/// Basic auth carry it. Our own because firmware targets do not link Foundation.
public enum Base64 {
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            /// A character outside the standard alphabet (URL-safe `-`/`_` included).
            case invalidCharacter(Character)
            /// `=` followed by data, more than two `=`, or padding that does not complete a quantum.
            case misplacedPadding
            /// One single character is left over: it cannot encode a whole byte.
            case truncatedInput
        }
        public let reason: Reason
        /// Offset in characters (Unicode scalars) into the input where the problem was found.
        public let offset: Int

        public var description: String {
            switch reason {
            case .invalidCharacter(let character):
                return "base64: invalid character \(String(reflecting: character)) at offset \(offset)"
            case .misplacedPadding:
                return "base64: misplaced padding '=' at offset \(offset)"
            case .truncatedInput:
                return "base64: input ends with a lone character at offset \(offset)"
            }
        }
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 0x3f)])
            output.append(alphabet[Int(value >> 12 & 0x3f)])
            output.append(alphabet[Int(value >> 6 & 0x3f)])
            output.append(alphabet[Int(value & 0x3f)])
            index += 3
        }
        let remaining = bytes.count - index
        if remaining == 1 {
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 0x3f)])
            output.append(alphabet[Int(value >> 12 & 0x3f)])
            output.append(UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        } else if remaining == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 0x3f)])
            output.append(alphabet[Int(value >> 12 & 0x3f)])
            output.append(alphabet[Int(value >> 6 & 0x3f)])
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whitespace (space, tab, CR, LF) is skipped so line-wrapped input decodes; padding may be
    /// omitted, but if present it must complete the last quantum.
    public static func decode(_ text: String) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count / 4 * 3)
        var quantum: UInt32 = 0
        var symbolsInQuantum = 0
        var paddingCount = 0
        var offset = -1
        var lastSymbolOffset = 0
        for scalar in text.unicodeScalars {
            offset += 1
            switch scalar {
            case " ", "\t", "\r", "\n":
                continue
            case "=":
                // Padding can only stand in for the 3rd and 4th symbol of a quantum.
                guard symbolsInQuantum + paddingCount >= 2, symbolsInQuantum + paddingCount < 4 else {
                    throw DecodingError(reason: .misplacedPadding, offset: offset)
                }
                paddingCount += 1
                continue
            default:
                break
            }
            guard paddingCount == 0 else { throw DecodingError(reason: .misplacedPadding, offset: offset) }
            guard scalar.isASCII, decodeTable[Int(scalar.value)] != 0xff else {
                throw DecodingError(reason: .invalidCharacter(Character(scalar)), offset: offset)
            }
            quantum = quantum << 6 | UInt32(decodeTable[Int(scalar.value)])
            symbolsInQuantum += 1
            lastSymbolOffset = offset
            if symbolsInQuantum == 4 {
                output.append(UInt8(quantum >> 16 & 0xff))
                output.append(UInt8(quantum >> 8 & 0xff))
                output.append(UInt8(quantum & 0xff))
                quantum = 0
                symbolsInQuantum = 0
            }
        }
        if paddingCount > 0, symbolsInQuantum + paddingCount != 4 {
            throw DecodingError(reason: .misplacedPadding, offset: offset)
        }
        switch symbolsInQuantum {
        case 0:
            break
        case 1:
            throw DecodingError(reason: .truncatedInput, offset: lastSymbolOffset)
        case 2:
            output.append(UInt8(quantum >> 4 & 0xff))
        case 3:
            output.append(UInt8(quantum >> 10 & 0xff))
            output.append(UInt8(quantum >> 2 & 0xff))
        default:
            break
        }
        return output
    }
}
