import TestSupport
import OCPPJSON
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func error(_ text: String, limits: JSONParser.Limits = .default) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(Array(text.utf8), limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func scalarsAndContainers() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("\"a\"") == .string("a"))
        #expect(try parse("[1, 2.5, \"x\", [], {}]") == [1, 2.5, "x", [], [:]])
        let object = try parse(#"{"b": 1, "a": {"c": [true, null]}}"#)
        #expect(object["a"]?["c"] == [true, nil])
        #expect(object.objectValue?.keys == ["b", "a"])
    }

    @Test func integersStayExact() throws {
        #expect(try parse("9223372036854775807") == .integer(.max))
        #expect(try parse("-9223372036854775808") == .integer(.min))
        #expect(try parse("-0") == .integer(0))
        #expect(try parse("9007199254740993") == .integer(9_007_199_254_740_993))
        // Beyond Int64 a JSON number is still a number, just not exact.
        #expect(try parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try parse("1.0") == .double(1))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("-1.5E-3") == .double(-0.0015))
    }

    @Test func numberGrammarIsStrict() {
        for bad in ["01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x10", "NaN", "Infinity", "1.e3"] {
            #expect(error(bad) != nil, "\(bad) must be refused")
        }
        #expect(error("1e400")?.reason == .numberOutOfRange)
        #expect(error("01") == JSONParseError(.invalidNumber, at: 0))
    }

    @Test func stringEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u00e9\u20AC""#) == .string("é€"))
        #expect(try parse(#""\ud83d\ude00 ok""#) == .string("😀 ok"))
        #expect(try parse("\"grüße 😀\"") == .string("grüße 😀"))
        #expect(error(#""\ud83d""#)?.reason == .invalidUnicodeEscape)
        #expect(error(#""\ude00""#)?.reason == .invalidUnicodeEscape)
        #expect(error(#""\ud83d\u0041""#)?.reason == .invalidUnicodeEscape)
        #expect(error(#""\x41""#) == JSONParseError(.invalidEscape, at: 1))
        #expect(error(#""\u12G4""#)?.reason == .invalidEscape)
        #expect(error("\"a\nb\"") == JSONParseError(.controlCharacterInString, at: 2))
    }

    @Test func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
                               [0x22, 0xC0, 0xAF, 0x22], [0x22, 0x5C, 0x6E, 0xFE, 0x22]] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        }
    }

    @Test func errorsCarryTheByteOffset() {
        #expect(error("") == JSONParseError(.unexpectedEnd, at: 0))
        #expect(error("[1,]") == JSONParseError(.unexpectedByte(UInt8(ascii: "]")), at: 3))
        #expect(error("{\"a\" 1}") == JSONParseError(.unexpectedByte(UInt8(ascii: "1")), at: 5))
        #expect(error("[1] x") == JSONParseError(.trailingData, at: 4))
        #expect(error("{} {}") == JSONParseError(.trailingData, at: 3))
        #expect(error("tru") == JSONParseError(.unexpectedEnd, at: 3))
        #expect(error("nul!") == JSONParseError(.unexpectedByte(UInt8(ascii: "!")), at: 3))
        #expect(error(#"{"a":1,"a":2}"#) == JSONParseError(.duplicateKey("a"), at: 7))
        #expect(error("[1 2]") == JSONParseError(.unexpectedByte(UInt8(ascii: "2")), at: 3))
        #expect(error("\u{FEFF}{}")?.offset == 0)
        #expect(error("// c\n{}") != nil)
        #expect("\(JSONParseError(.trailingData, at: 4))" == "data after the JSON value at byte 4")
    }

    @Test func limitsStopHostileInput() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(error(deep)?.reason == .tooDeep)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(error(ok) == nil)
        let veryDeep = String(repeating: "{\"a\":", count: 100_000)
        #expect(error(veryDeep)?.reason == .tooDeep)
        #expect(error("[1,2,3]", limits: .init(maxBytes: 6)) == JSONParseError(.tooLarge, at: 6))
        #expect(error("[1,2,3]", limits: .init(maxValues: 3))?.reason == .tooManyValues)
        let huge = "\"" + String(repeating: "x", count: 2_000_000) + "\""
        #expect((try? parse(huge))?.stringValue?.utf8.count == 2_000_000)
    }

    @Test func nonContiguousInputParsesToo() throws {
        let bytes = Array("{\"k\": [1, 2]}".utf8)
        #expect(try JSONParser.parse(bytes.lazy.map { $0 }) == ["k": [1, 2]])
        #expect(try JSONParser.parse("{\"k\": 1}") == ["k": 1])
    }

    @Test func randomBytesNeverCrash() {
        var rng = SeededGenerator(seed: 0x5EED)
        let alphabet = Array("{}[]\",:\\tfnrue0123456789.-+Ee \n\u{1}aé".utf8) + [0xFF, 0xC3, 0x80]
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 40)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next())
                                                 : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            if let value = try? JSONParser.parse(bytes) {
                accepted += 1
                // Whatever is accepted must survive a round trip.
                #expect((try? JSONParser.parse(JSONWriter.write(value))) == value)
            }
        }
        #expect(accepted > 0)
    }

    @Test func mutatedValidDocumentsNeverCrash() {
        var rng = SeededGenerator(seed: 42)
        let base = Array(#"{"a":[1,-2.5e3,"x\u00e9\n",true,null,{"b":{}}],"c":"\ud83d\ude00"}"#.utf8)
        var refused = 0
        for _ in 0..<20_000 {
            var bytes = base
            for _ in 0..<(1 + rng.next() % 3) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: i)
                default: bytes.insert(bytes[Int(rng.next() % UInt64(bytes.count))], at: i)
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                #expect((try? JSONParser.parse(JSONWriter.write(value))) == value)
            } catch {
                refused += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
        }
        #expect(refused > 0)
    }
}

