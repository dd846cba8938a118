import Testing
@testable import Drivers

@Suite("HD44780 character ROMs A00 and A02")
struct HD44780ROMTests {
    @Test func a02ShowsTheAccentedLettersA00StripsThem() {
        #expect(HD44780Charset.encode("Café à Noël ç", rom: .a02) == [0x43, 0x61, 0x66, 0xE9, 0x20, 0xE0, 0x20, 0x4E, 0x6F, 0xEB, 0x6C, 0x20, 0xE7])
        #expect(HD44780Charset.encode("Café à Noël ç", rom: .a00) == Array("Cafe a Noel c".utf8))
        #expect(HD44780Charset.encode("Größe ÄÖÜ", rom: .a02) == [0x47, 0x72, 0xF6, 0xDF, 0x65, 0x20, 0xC4, 0xD6, 0xDC])
        #expect(HD44780Charset.encode("€", rom: .a02) == [HD44780Charset.euroCode])
    }

    @Test func whatNeitherROMHasIsSpelledOutNotMojibake() {
        #expect(HD44780Charset.encode("œuvre", rom: .a00) == Array("oeuvre".utf8))
        #expect(HD44780Charset.encode("Łódź", rom: .a02) == [0x4C, 0xF3, 0x64, 0x7A])
        #expect(HD44780Charset.encode("“Hi”…", rom: .a00) == Array("\"Hi\".".utf8), "the A00 table's … is one dot")
        #expect(HD44780Charset.encode("漢", rom: .a02) == [UInt8(ascii: "?")])
    }

    @Test func theDriverWritesTheA02CodesAndKeepsTheRowWidth() throws {
        let lcd = try HD44780Display(i2c: WriteRecorder(address: 0x27), config: .init(columns: 20, rows: 4, rom: .a02))
        let bytes = lcd.screenBytes(["Prix 0,25 €/kWh é", "œœœœœœœœœœœœ"])
        // Each character costs 4 bytes; each row: 4 (address) + 20 × 4.
        #expect(bytes.count == 4 * (4 + 20 * 4))
        let e9 = lcd.byteBytes(0xE9, data: true)
        #expect(bytes.indices.contains { Array(bytes[$0..<min(bytes.count, $0 + 4)]) == e9 })
    }
}
