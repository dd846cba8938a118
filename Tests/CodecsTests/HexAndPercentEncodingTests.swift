import Codecs
import Testing

@Suite struct HexTests {
    @Test func decodesEitherCaseAndRefusesOddOrForeignDigits() {
        #expect(Hex.decode("00ff7A") == [0x00, 0xFF, 0x7A])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("0x") == nil)
    }

    @Test func encodesTwoDigitsPerByte() {
        #expect(Hex.encode([0x00, 0xAB, 0x0F]) == "00ab0f")
        #expect(Hex.encode([0xAB], uppercase: true) == "AB")
        let all = (0...255).map(UInt8.init)
        #expect(Hex.decode(Hex.encode(all)) == all)
    }
}

@Suite struct PercentEncodingTests {
    @Test func keepsUnreservedAndEscapesEveryOtherByte() {
        #expect(PercentEncoding.encode("CP-1_a.b~") == "CP-1_a.b~")
        #expect(PercentEncoding.encode("CP 1/ü") == "CP%201%2F%C3%BC")
    }

    @Test func decodesEscapesAndRefusesBrokenOnes() {
        #expect(PercentEncoding.decode("CP%201%2f%C3%BC").map { String(decoding: $0, as: UTF8.self) } == "CP 1/ü")
        #expect(PercentEncoding.decode("100%") == nil)
        #expect(PercentEncoding.decode("%4") == nil)
        #expect(PercentEncoding.decode("%zz") == nil)
        #expect(PercentEncoding.decode(Substring(PercentEncoding.encode("a:b@c d"))) == Array("a:b@c d".utf8))
    }
}
