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

@Suite struct URIAuthorityTests {
    @Test func hostAndOptionalPortIPv6InBrackets() throws {
        #expect(try URIAuthority("csms.example.net") == URIAuthority(host: "csms.example.net", port: nil))
        #expect(try URIAuthority("10.0.0.1:9000").port == 9000)
        #expect(try URIAuthority("[::1]:8443") == URIAuthority(host: "::1", port: 8443))
        #expect(try URIAuthority("[fe80::1]").host == "fe80::1")
        #expect(try URIAuthority("h:").port == nil, "an empty port is the default one (RFC 3986)")
    }

    @Test func everyProblemIsNamed() {
        func problem(_ text: Substring) -> URIAuthority.Problem? {
            do { _ = try URIAuthority(text); return nil } catch { return error }
        }
        #expect(problem("[::1") == .unclosedIPv6Address)
        #expect(problem("[::1]x") == .junkAfterIPv6Address)
        #expect(problem(":80") == .noHost)
        #expect(problem("") == .noHost)
        #expect(problem("bad host") == .invalidHost)
        #expect(problem("h:0") == .invalidPort("0"))
        #expect(problem("h:70000") == .invalidPort("70000"))
        #expect(problem("h:x") == .invalidPort("x"))
    }
}
