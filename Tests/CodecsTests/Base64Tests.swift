import Testing
@testable import Codecs

@Suite struct Base64Tests {
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test func encodesAndDecodesTheRFC4648Vectors() throws {
        for (plain, encoded) in Self.vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(try Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func roundTripsEveryLengthAndByteValue() throws {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
        }
        let all = (0...255).map { UInt8($0) }
        #expect(try Base64.decode(Base64.encode(all)) == all)
    }

    @Test func acceptsMissingPaddingAndLineBreaks() throws {
        #expect(try Base64.decode("Zg") == Array("f".utf8))
        #expect(try Base64.decode("Zm8") == Array("fo".utf8))
        #expect(try Base64.decode("Zm9v\r\nYmFy\n") == Array("foobar".utf8))
        #expect(try Base64.decode(" Zm9v\tYg = = ") == Array("foob".utf8))
        #expect(try Base64.decode("\n") == [])
    }

    @Test func rejectsBadInputNamingTheOffset() {
        func reason(_ text: String) -> Base64.DecodingError? {
            do {
                _ = try Base64.decode(text)
                return nil
            } catch let error as Base64.DecodingError {
                return error
            } catch {
                return nil
            }
        }
        #expect(reason("Zm9v!") == Base64.DecodingError(reason: .invalidCharacter("!"), offset: 4))
        #expect(reason("Zm-_")?.reason == .invalidCharacter("-"))
        #expect(reason("Zm9vé")?.reason == .invalidCharacter("é"))
        #expect(reason("Z")?.reason == .truncatedInput)
        #expect(reason("Zm9vY")?.reason == .truncatedInput)
        #expect(reason("Zg=")?.reason == .misplacedPadding)
        #expect(reason("=Zg=")?.reason == .misplacedPadding)
        #expect(reason("Zg==Zg==")?.reason == .misplacedPadding)
        #expect(reason("Zm9vY===")?.reason == .misplacedPadding)
        #expect(reason("Zm9v=")?.reason == .misplacedPadding)
    }
}
