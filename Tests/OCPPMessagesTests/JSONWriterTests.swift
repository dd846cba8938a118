import TestSupport
import OCPPJSON
import Testing

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func compactOutputKeepsMemberOrder() {
        let value: JSONValue = ["z": 1, "a": [true, nil, "s"], "m": ["k": 2.5]]
        #expect(JSONWriter.writeString(value) == #"{"z":1,"a":[true,null,"s"],"m":{"k":2.5}}"#)
        #expect(JSONWriter.write(value) == Array(JSONWriter.writeString(value).utf8))
        #expect("\(JSONValue.array([]))" == "[]")
    }

    @Test func minimalEscaping() {
        let value = JSONValue.string("q\"b\\s/ é😀\n\r\t\u{8}\u{C}\u{1}\u{1F}")
        #expect(JSONWriter.writeString(value) == #""q\"b\\s/ é😀\n\r\t\b\f\u0001\u001f""#)
    }

    @Test("output far past the writer's first 256 bytes, in small pieces and in one long string")
    func outputThatOutgrowsTheBuffer() throws {
        let long = String(repeating: "ab\"é", count: 5_000)  // 25,000 bytes, 5,000 escapes
        let many = JSONValue.array((0..<3_000).map { .object(["n": .integer(Int64($0) * -7), "s": .string("x\($0)")]) })
        for value in [JSONValue.string(long), many, .array([many, .string(long), many])] {
            let text = JSONWriter.writeString(value)
            #expect(text.utf8.count > 20_000)
            #expect(try JSONParser.parse(Array(text.utf8)) == value)
            #expect(JSONWriter.write(value) == Array(text.utf8))
        }
    }

    @Test func numbers() {
        #expect(JSONWriter.writeString(.integer(0)) == "0")
        #expect(JSONWriter.writeString(.integer(-42)) == "-42")
        #expect(JSONWriter.writeString(.integer(.min)) == "-9223372036854775808")
        #expect(JSONWriter.writeString(.integer(.max)) == "9223372036854775807")
        #expect(JSONWriter.writeString(.double(0.1)) == "0.1")
        #expect(JSONWriter.writeString(.double(16.5)) == "16.5")
        #expect(JSONWriter.writeString(.double(1e-7)) == "1e-07")
        #expect(JSONWriter.writeString(.double(.infinity)) == "null")
        #expect(JSONWriter.writeString(.double(.nan)) == "null")
    }

    @Test func roundTripOfRandomValues() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let value = randomValue(&rng, depth: 0)
            let bytes = JSONWriter.write(value)
            #expect(try JSONParser.parse(bytes) == value)
        }
    }

    func randomValue(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
        switch rng.next() % (depth > 4 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(rng.next() % 2 == 0)
        case 2: return .integer(Int64(bitPattern: rng.next()) >> (rng.next() % 64))
        case 3:
            let d = Double(bitPattern: rng.next())
            return d.isFinite ? .double(d) : .double(0.5)
        case 4:
            let scalars = (0..<(rng.next() % 12)).map { _ -> Character in
                let pick = rng.next() % 4
                let v: UInt32 = pick == 0 ? UInt32(rng.next() % 0x20) : pick == 1 ? 0x1F600 : pick == 2 ? 0xE9 : UInt32(0x20 + rng.next() % 0x5F)
                return Character(Unicode.Scalar(v) ?? "x")
            }
            return .string(String(scalars))
        case 5: return .array((0..<(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var object = JSONObject()
            for i in 0..<(rng.next() % 15) { object["k\(i)_\(rng.next() % 3)"] = randomValue(&rng, depth: depth + 1) }
            return .object(object)
        }
    }
}

@Suite("JSON object")
struct JSONObjectTests {
    @Test func lookupOrderAndRemovalAcrossTheIndexThreshold() {
        var object = JSONObject()
        for i in 0..<40 { object["key\(i)"] = .integer(Int64(i)) }
        #expect(object.count == 40)
        #expect(object["key17"] == .integer(17))
        object["key3"] = nil
        object["key17"] = "changed"
        #expect(object["key3"] == nil)
        #expect(object["key39"] == .integer(39))
        #expect(object["key17"] == "changed")
        #expect(object.keys.first == "key0" && object.keys[3] == "key4")
        var small = object
        for i in 4..<40 { small["key\(i)"] = nil }
        #expect(small.keys == ["key0", "key1", "key2"])
        #expect(small["key2"] == .integer(2) && small["key20"] == nil)
    }

    @Test func equalityIgnoresMemberOrder() {
        let a: JSONValue = ["x": 1, "y": [2]]
        let b: JSONValue = ["y": [2], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [3]])
        #expect(JSONValue.integer(1) != .double(1))
        #expect(JSONValue.double(5).int64Value == 5 && JSONValue.double(5.5).int64Value == nil)
    }
}
