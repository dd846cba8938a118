import HAL
import Locking
import Synchronization
import Testing
@testable import Drivers

/// Keeps each I2C write apart (the SSD1306's control byte starts each one).
final class WriteRecorder: I2CDevice {
    let bus = "test"
    let address: UInt8
    private let state = Mutex<[[UInt8]]>([])
    init(address: UInt8 = 0x3C) { self.address = address }
    var writes: [[UInt8]] { state.locked { $0 } }
    func clear() { state.locked { $0.removeAll() } }
    func write(_ bytes: [UInt8]) throws { state.locked { $0.append(bytes) } }
}

@Suite("SSD1306 OLED driver, its font and QR codes")
struct SSD1306Tests {
    @Test func initialisesThenWritesEachPageWithPageAddressing() throws {
        let bus = WriteRecorder()
        let oled = try SSD1306Display(i2c: bus)
        #expect(oled.columns == 21 && oled.rows == 8)
        try oled.show(lines: ["Ready"])
        let writes = bus.writes
        #expect(writes.first == [0x00] + SSD1306Display.initializationCommands)
        #expect(writes.first?.contains(0x8D) == true && writes.first?.last == 0xAF, "charge pump, display on last")
        // Then 8 pages: a command write (page, column 0) and a data write of 128 bytes each.
        #expect(writes.count == 1 + 2 * 8)
        for page in 0..<8 {
            #expect(writes[1 + 2 * page] == [0x00, 0xB0 | UInt8(page), 0x00, 0x10])
            #expect(writes[2 + 2 * page].first == 0x40)
            #expect(writes[2 + 2 * page].count == 129)
        }
        // "R" in the first cell of page 0, one blank column after each glyph.
        let page0 = Array(writes[2].dropFirst())
        #expect(Array(page0[0..<5]) == DisplayFont.glyphs[UInt32(UInt8(ascii: "R"))])
        #expect(page0[5] == 0)
    }

    @Test func onlyChangedPagesAreSentAgain() throws {
        let bus = WriteRecorder()
        let oled = try SSD1306Display(i2c: bus)
        try oled.show(lines: ["Charging", "7.4 kW"])
        bus.clear()
        try oled.show(lines: ["Charging", "7.5 kW"])
        #expect(bus.writes.count == 2, "one page changed: \(bus.writes.map { $0.prefix(4) })")
        #expect(bus.writes.first == [0x00, 0xB1, 0x00, 0x10])
        bus.clear()
        try oled.show(lines: ["Charging", "7.5 kW"])
        #expect(bus.writes.isEmpty, "nothing changed, nothing sent")
    }

    @Test func refusesAnAddressAnSSD1306DoesNotAnswerAt() {
        #expect(throws: DisplayError.self) { try SSD1306Display(i2c: WriteRecorder(address: 0x27)) }
    }

    @Test func theFontHasEveryLetterTheFourLanguagesUse() {
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;!?-+/()%€°"
            + "ÄÖÜäöüß" + "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ" + "áéíóúëïöüÁÉÍÓÚ"
        for c in letters {
            let scalar = c.unicodeScalars.first?.value ?? 0
            #expect(DisplayFont.glyphs[scalar] != nil, "no glyph for \(c)")
            #expect(TextTransliteration.toFont(c) == String(c))
        }
        #expect(DisplayFont.glyphs[UInt32(UInt8(ascii: "e"))] != DisplayFont.glyphs[0xE9], "é is not e")
        for (accented, base) in zip("ÀÂÇÉÈÊËÎÏÔÙÛÜÄÖŸàâçéèêëîïôùûüäöÿœ", "AACEEEEIIOUUUAOYaaceeeeiiouuuaoye") {
            let a = accented.unicodeScalars.first?.value ?? 0, b = base.unicodeScalars.first?.value ?? 0
            #expect(DisplayFont.glyphs[a] != DisplayFont.glyphs[b], "\(accented) looks like \(base)")
        }
        #expect(Set(DisplayFont.glyphs.values.map { $0.count }) == [5])
    }

    @Test func whatTheFontLacksIsTransliteratedNeverGarbage() {
        #expect(TextTransliteration.toFont("Ő") == "O")
        #expect(TextTransliteration.toFont("ł") == "l")
        #expect(TextTransliteration.toFont("Š") == "S")
        #expect(TextTransliteration.toFont("“") == "\"")
        #expect(TextTransliteration.toFont("—") == "-")
        #expect(TextTransliteration.toFont("漢") == "?")
        #expect(TextTransliteration.toFont("🙂") == "?")
        #expect(SSD1306Display.glyphs(for: "Łódź").count == 4)
    }

    @Test func aScreenWithAQRCodeDrawsItOnTheRightAndWrapsTheTextLeft() throws {
        let frame = SSD1306Display.render(lines: ["Total 3.31", "Scan for your receipt"], qrCode: "https://cpo.example/i/13546")
        func lit(_ x: Int, _ y: Int) -> Bool { frame[(y / 8) * 128 + x] >> UInt8(y % 8) & 1 == 1 }
        let code = try QRCode.encode("https://cpo.example/i/13546")
        let scale = 60 / code.size
        let left = 64 + (64 - code.size * scale) / 2, top = (64 - code.size * scale) / 2
        for y in 0..<code.size {
            for x in 0..<code.size {
                #expect(lit(left + x * scale, top + y * scale) == code.isDark(x: x, y: y), "module \(x),\(y)")
            }
        }
        // Text stays in the 10 columns left of the code (60 px).
        for y in 0..<64 { for x in 60..<left { #expect(!lit(x, y)) } }
        #expect((0..<8).contains { lit($0, 3) }, "text on the left")
    }
}

@Suite("QR code encoder")
struct QRCodeTests {
    @Test func matchesAKnownGoodEncoderModuleForModule() throws {
        for v in Self.vectors {
            let code = try QRCode.encode(v.text, errorCorrection: v.level, mask: v.mask)
            #expect(code.version == v.version, "\(v.text)")
            #expect(code.rows == v.rows, "\(v.text)\n\(code.rows.joined(separator: "\n"))")
        }
    }

    @Test func choosesTheMaskWithTheLowestPenalty() throws {
        for v in Self.vectors {
            let chosen = try QRCode.encode(v.text, errorCorrection: v.level)
            // The penalty is scored on the whole symbol, format information included (as
            // libqrencode does); python-qrcode scores it with the format areas blank, so the
            // two may pick different masks. Any mask decodes.
            for mask in 0..<8 {
                var m = QRCode.Matrix(version: chosen.version)
                m.drawFunctionPatterns()
                m.drawCodewords(QRCode.interleaved(chosen.version, v.level, data: QRCode.dataCodewords(for: Array(v.text.utf8), version: chosen.version, level: v.level)))
                m.applyMask(mask)
                m.drawFormat(level: v.level, mask: mask)
                var best = QRCode.Matrix(version: chosen.version)
                best.dark = chosen.modules
                #expect(best.penalty() <= m.penalty(), "\(v.text): mask \(chosen.mask) scores above mask \(mask)")
            }
        }
    }

    @Test func refusesTextLongerThanVersion10Holds() {
        let capacity = QRCode.capacity(.medium)
        #expect(capacity == 213)
        #expect(throws: QRCode.EncodingError.tooLong(bytes: capacity + 1, maximum: capacity)) {
            try QRCode.encode(String(repeating: "x", count: capacity + 1))
        }
        #expect((try? QRCode.encode(String(repeating: "x", count: capacity)))?.version == 10)
    }

    @Test func reedSolomonOfTheStandardsExample() {
        // ISO/IEC 18004 annex I: "01234567" at 1-M, data codewords → 10 EC codewords.
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ecc = ReedSolomon.remainder(data, divisor: ReedSolomon.divisor(degree: 10))
        #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    // Known-good matrices: python-qrcode 8.2 (PyPI `qrcode`), byte mode, border 0, its own mask choice.
    static let vectors: [(text: String, level: QRCode.ErrorCorrection, version: Int, mask: Int, rows: [String])] = [
        (text: "HELLO", level: .low, version: 1, mask: 5, rows: [
            "#######.....#.#######",
            "#.....#...#.#.#.....#",
            "#.###.#...###.#.###.#",
            "#.###.#.#.#.#.#.###.#",
            "#.###.#.##..#.#.###.#",
            "#.....#..#.#..#.....#",
            "#######.#.#.#.#######",
            ".....................",
            "##...###...#....##...",
            "###.##.#.#####.####.#",
            "#..##.#.##..#.##.###.",
            "...###.#########.##..",
            "####..##..##########.",
            "........#...#....#...",
            "#######.####.#..#.##.",
            "#.....#.#.....#..####",
            "#.###.#..###.#..#.##.",
            "#.###.#..######..#...",
            "#.###.#...####.######",
            "#.....#.#..########..",
            "#######.#.#.#...#.##.",
        ]),
        (text: "https://cpo.example/i/13546", level: .medium, version: 3, mask: 4, rows: [
            "#######.#..#.##.#...#.#######",
            "#.....#..#.#.###..##..#.....#",
            "#.###.#..##...#..####.#.###.#",
            "#.###.#.##.#.......#..#.###.#",
            "#.###.#.####........#.#.###.#",
            "#.....#.##......####..#.....#",
            "#######.#.#.#.#.#.#.#.#######",
            "........#.##.#.####..........",
            "#...#.####.###...##.######..#",
            "#.#..#......###.#.....#######",
            "###.###.###.#...###.#.###...#",
            ".#.#.#.##...#.#..####.#.##.##",
            "...#.###....#######.##.....#.",
            "#...##.#.##.........###.#####",
            "...#.####....###.##.##..###.#",
            "##..#..##..###.###..###.#..##",
            "#.....#..#.#.#...#####.....#.",
            "##.##...#..#.##.#.....####.##",
            "...####.#.###...#.#..###..#.#",
            "...#...#..#...#..#..#.##...##",
            "####.##.####.####.#.######..#",
            "........##.##....####...#...#",
            "#######.#..#.###..###.#.###.#",
            "#.....#....###.##..##...#....",
            "#.###.#.######.....#######..#",
            "#.###.#...#..##.#.####.#...#.",
            "#.###.#..#.###..##...#...####",
            "#.....#..#.#.#...####...##.##",
            "#######.#...##.##.#.##..##.#.",
        ]),
        (text: "https://www.cpo.com/invoices/13546?session=98765&lang=nl", level: .medium, version: 4, mask: 2, rows: [
            "#######..###.##...###.##..#######",
            "#.....#..#..######..##....#.....#",
            "#.###.#.#.#..#..#....#.##.#.###.#",
            "#.###.#.#.##..#.####......#.###.#",
            "#.###.#.#.###..#.#.######.#.###.#",
            "#.....#.##.##..###...#....#.....#",
            "#######.#.#.#.#.#.#.#.#.#.#######",
            "........##..#.##..####..#........",
            "#.#####..#..##.#.#.#..###.#####..",
            ".#.#.#..#.###.#..#.###.#..##.####",
            "##..#.###..##..##...#.#.#...#.#..",
            ".#.###..###.#.#....#####.##.###..",
            "####..###.#....#.#.#...#.#..##.#.",
            "#.####....#.#.###.###.###.#..####",
            "..#..##.##.#.....#..#.#..##.#..#.",
            ".##.#...##......#.#..##..###..#..",
            "#####.###.##.#..##.....###.###..#",
            "####.......#.##.####.#.#####.####",
            "...#.######.#..###..#.#...###.#..",
            ".##....####..####.#.##.#.#.#####.",
            "#.....#.#...##.###.#.....#..##.#.",
            "####.#...#.##..#.####.###.#..#..#",
            "#....##.#...##.###....#.##...#.#.",
            "#.####.##.###.##....##.#.##..##..",
            "#.#...#.#.....##.#.#..########..#",
            "........##..##..######.##...#.###",
            "#######...###..##...#####.#.#.#..",
            "#.....#.###...#...#######...#####",
            "#.###.#.#..###.#..##....######...",
            "#.###.#.##.#.#########.#.#..#.###",
            "#.###.#.#..#..#...#....#####.#...",
            "#.....#..###....#..####..##.###..",
            "#######.#....#...#....######...#.",
        ]),
        (text: "https://pay.example.com/s/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", level: .medium, version: 8, mask: 2, rows: [
            "#######....#...####.....##.#.##.....#...#.#######",
            "#.....#.......#....##.#..#####..#.#..####.#.....#",
            "#.###.#.##.##..#...#.##.#.#.##.##.##...##.#.###.#",
            "#.###.#.#.##...#.###.#..#....#.#...###.#..#.###.#",
            "#.###.#.##.#.##.###..#######.##.....##....#.###.#",
            "#.....#.#.##......##..#...###...#.#..##...#.....#",
            "#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#######",
            "........#....#.####...#...#.#..#####..##.........",
            "#.#####...##.#....###.#####...##.#.##...#.#####..",
            "##.#.#..###.#...#..#.##.##.#.##.....##...##..###.",
            ".###.##..#.#.#...##..#...#####..#.#..###.#..##.##",
            "######..##.....##.#.#..#..#.#...###...###..##...#",
            "##...####.#..####.....###.....##.#.##...#..#..#..",
            "#...##.#..##..#..####.#.##.#.####..###....#..###.",
            "#.#.###.....#...##..###..#####....#.####....##.##",
            "#.#..#.#..#..#.....##.##..#.#..#####..###..##...#",
            "..#..##.##.##..#..####.##.....##.#.##...#.##..#..",
            "#......#.#.#...#..##.##.##.#.##.....##...##....#.",
            "..#...##....##.####..#...#####..#.#..###.#..##.##",
            ".......####.#.###.#.#..#..#.##.###.#..###..##...#",
            ".#.#####.#.#..#.##.##.###....###.#.###.##.#...#..",
            ".###.#....###...##.#.##.##.#..#.....#....#######.",
            "#########...##.#.##..########...###...########.##",
            "##..#...#..#.#.###..###...#.#..#####..###...#...#",
            "#####.#.##.##..#..#####.#.#...##.#.##..##.#.#.#..",
            ".####...#.#.#.....##..#...##.##.....##.##...####.",
            ".#..#####.###.##......########..#.#..##.######.##",
            "####.....#..#.#...#.#.#..##.#...###...#.##......#",
            ".#....##...#.#.##..#.#.#..#...##.#.##..#...##.#..",
            "#.##...#.##..##......#.##...###.#...##.#..##.##..",
            "#...###....#...#.###..#.##..##.##.#..##.###..#.##",
            ".##..#..####...#.#...##..##.#..#####..#.##..#....",
            ".#.#..#....#####..####.#..#...##.#.##..#.#.##.#.#",
            "#.####..#..####.#..#.####..#.##.....##.#.#.#...#.",
            "#.#####.#..##..###...#..##.###..#.#..##.#.#..#.##",
            "###....#..###.......#.#..##.##.##.##.##.#...#...#",
            "###.#####.#...#....###.#..#..#.#.#.##.##...##.#..",
            ".#.##..#.##..#.#..##.#.##..#.##.....##.#..##.###.",
            ".#...####.##....#.....#.##.###..###...#.###..#.##",
            ".###...##.####..###.#.#..##.#..#####..#.##..#...#",
            "###...#####...##.##########...##.#.##..######.#..",
            "........#...#.####.#.##...##.##.....##..#...####.",
            "#######.....#...##...##.#.####..#.#..##.#.#.##.##",
            "#.....#.####....###.###...###...####..#.#...#...#",
            "#.###.#.##..###.......######..#..#.##...#####.#..",
            "#.###.#.#.#....#..###.##..#.####...###..#..######",
            "#.###.#.#..##..####.#####..#.#.#..#####...##.#...",
            "#.....#..#.#...#.#####..##..#..#####..##.##.....#",
            "#######.#...#.#..####....##...##.#.##..###....###",
        ]),
    ]
}
