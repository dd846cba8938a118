import HAL
import Locking
import Synchronization

/// A 128×64 monochrome OLED with an SSD1306 controller on I2C (address 0x3C or 0x3D), the
/// graphic display of many small chargers. Text is drawn with `DisplayFont` in cells of
/// 6×8 pixels: 21 columns × 8 rows. A screen may carry a QR code (a payment or help URL): it
/// takes the right 64×64 pixels and the text wraps in the 10 columns left of it.
///
/// ## On the bus
///
/// Every I2C write starts with a control byte: `0x00` (the rest are commands) or `0x40` (the
/// rest are GDDRAM data).
///
/// Initialisation, one command write (the datasheet's recommended sequence for a 128×64 panel
/// with the internal charge pump): `AE` display off · `D5 80` clock · `A8 3F` multiplex 64 ·
/// `D3 00` no offset · `40` start line 0 · `8D 14` charge pump on · `20 02` page addressing ·
/// `A1` column 127 is SEG0 · `C8` COM scan from the bottom · `DA 12` alternative COM pins ·
/// `81 CF` contrast · `D9 F1` pre-charge · `DB 40` VCOMH · `A4` show GDDRAM · `A6` not inverted ·
/// `AF` display on.
///
/// Drawing, per page (8 rows of pixels) that changed since the last frame: the commands
/// `B0+page`, `00` (column low nibble 0), `10` (column high nibble 0), then one data write of
/// the page's 128 bytes, each a column of 8 pixels with bit 0 on top. Unchanged pages are not
/// sent: a status line ticking over costs one page, not the whole screen.
public final class SSD1306Display: TextDisplay {
    public static let width = 128
    public static let height = 64
    public static let pages = 8
    public static let cellWidth = 6
    public static let cellHeight = 8

    public static let initializationCommands: [UInt8] = [
        0xAE, 0xD5, 0x80, 0xA8, 0x3F, 0xD3, 0x00, 0x40, 0x8D, 0x14, 0x20, 0x02,
        0xA1, 0xC8, 0xDA, 0x12, 0x81, 0xCF, 0xD9, 0xF1, 0xDB, 0x40, 0xA4, 0xA6, 0xAF,
    ]
    public static let commandControl: UInt8 = 0x00
    public static let dataControl: UInt8 = 0x40

    public var columns: Int { Self.width / Self.cellWidth }
    public var canShowQRCode: Bool { true }
    public var rows: Int { Self.height / Self.cellHeight }
    /// Text columns beside a QR code.
    public var columnsBesideQRCode: Int { (Self.width - Self.height) / Self.cellWidth }

    private let device: any I2CDevice
    private struct State {
        var initialized = false
        /// What the glass shows (as last written); nil pages are unknown (after start).
        var shown: [[UInt8]?] = Array(repeating: nil, count: SSD1306Display.pages)
    }
    private let state = Mutex(State())

    public init(i2c device: any I2CDevice) throws(DisplayError) {
        guard device.address == 0x3C || device.address == 0x3D else {
            throw .invalidConfiguration("an SSD1306 answers at I2C address 0x3C or 0x3D, not 0x\(String(device.address, radix: 16))")
        }
        self.device = device
    }

    public func initialize() throws {
        try device.write([Self.commandControl] + Self.initializationCommands)
        state.locked { $0 = State(initialized: true) }
    }

    public func show(lines: [String]) throws {
        try show(lines: lines, qrCode: nil)
    }

    /// Draws `lines` (and a QR code of `qrCode` on the right when given and it fits).
    public func show(lines: [String], qrCode: String?) throws {
        try draw(Self.render(lines: lines, qrCode: qrCode))
    }

    /// Sends the pages of `frame` (1024 bytes, page by page) that differ from the glass.
    public func draw(_ frame: [UInt8]) throws {
        if !state.locked({ $0.initialized }) { try initialize() }
        for page in 0..<Self.pages {
            let bytes = Array(frame[(page * Self.width)..<((page + 1) * Self.width)])
            if state.locked({ $0.shown[page] }) == bytes { continue }
            try device.write([Self.commandControl, 0xB0 | UInt8(page), 0x00, 0x10])
            try device.write([Self.dataControl] + bytes)
            state.locked { $0.shown[page] = bytes }
        }
    }

    /// The frame buffer of a screen: text in 6×8 cells, a QR code at the right when given.
    /// Characters the font lacks are transliterated (`TextTransliteration`), never garbage.
    public static func render(lines: [String], qrCode: String?) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: width * pages)
        var textColumns = width / cellWidth
        if let qrCode, let code = try? QRCode.encode(qrCode, errorCorrection: .medium) {
            let scale = max(1, (height - 4) / code.size)
            let side = code.size * scale
            let left = width - height + (height - side) / 2
            let top = (height - side) / 2
            for y in 0..<code.size {
                for x in 0..<code.size where code.isDark(x: x, y: y) {
                    for dy in 0..<scale {
                        for dx in 0..<scale { setPixel(&frame, x: left + x * scale + dx, y: top + y * scale + dy) }
                    }
                }
            }
            textColumns = (width - height) / cellWidth
        }
        let fitted = qrCode == nil ? lines : lines.flatMap { TextLayout.wrap($0, columns: textColumns, rows: pages) }
        for (row, line) in fitted.prefix(pages).enumerated() {
            for (col, glyph) in glyphs(for: line).prefix(textColumns).enumerated() {
                let start = row * width + col * cellWidth
                for (i, column) in glyph.enumerated() where start + i < frame.count { frame[start + i] = column }
            }
        }
        return frame
    }

    static func setPixel(_ frame: inout [UInt8], x: Int, y: Int) {
        guard (0..<width).contains(x), (0..<height).contains(y) else { return }
        frame[(y / 8) * width + x] |= 1 << UInt8(y % 8)
    }

    /// One 5-column glyph per character, after transliteration.
    public static func glyphs(for text: String) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for character in text {
            for scalar in TextTransliteration.toFont(character).unicodeScalars {
                out.append(DisplayFont.glyphs[scalar.value] ?? DisplayFont.glyphs[UInt32(UInt8(ascii: "?"))] ?? [])
            }
        }
        return out
    }

    /// A test pattern: a frame, a checkerboard corner and the font's letters (`evsectl display test`).
    public static func testPattern() -> [UInt8] {
        var frame = render(lines: ["SwiftEVSE display", "ÄÖÜäöüß éèêàçëïô", "Prix 0,25 €/kWh", "", "", "", "", "12345678901234567890!"],
                           qrCode: nil)
        for x in 0..<width { setPixel(&frame, x: x, y: 32); setPixel(&frame, x: x, y: 63) }
        for y in 32..<height { setPixel(&frame, x: 0, y: y); setPixel(&frame, x: width - 1, y: y) }
        for y in 36..<60 { for x in 4..<28 where (x / 4 + y / 4) % 2 == 0 { setPixel(&frame, x: x, y: y) } }
        return frame
    }
}

/// What to draw for a character a display's font or ROM lacks: the letter without its accent
/// (Ő → O), a ligature spelled out (ﬁ → fi), a typographic sign as its ASCII cousin (“ → "),
/// and `?` for anything else. Never the bytes of another encoding (mojibake).
public enum TextTransliteration {
    static let table: [Character: String] = [
        "–": "-", "—": "-", "‘": "'", "’": "'", "‚": ",", "“": "\"", "”": "\"", "„": "\"", "…": "...",
        "•": "·", "‹": "<", "›": ">", "€": "EUR", "ﬁ": "fi", "ﬂ": "fl", "Œ": "OE", "œ": "oe", "Ÿ": "Y",
        "ẞ": "SS", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "\u{00A0}": " ", "\u{202F}": " ",
    ]

    /// The text for a 5×8 font holding ASCII, Latin-1, €, Œ, œ and Ÿ.
    public static func toFont(_ c: Character) -> String {
        if c.unicodeScalars.count == 1, let s = c.unicodeScalars.first, DisplayFont.glyphs[s.value] != nil { return String(c) }
        return plain(c)
    }

    /// The nearest ASCII spelling: table, else the base letter of a decomposed accented one.
    public static func plain(_ c: Character) -> String {
        if let t = table[c] { return t }
        if c.isASCII { return String(c) }
        // Canonical decomposition: a base letter and combining marks (é = e + ´).
        let base = c.unicodeScalars.first.flatMap { Self.baseLetter($0) }
        return base.map(String.init) ?? "?"
    }

    /// The base letter from the Unicode name: "LATIN SMALL LETTER O WITH DOUBLE ACUTE" → o.
    static func baseLetter(_ s: Unicode.Scalar) -> Character? {
        guard let name = s.properties.name else { return nil }
        let words = name.split(separator: " ")
        guard words.count >= 4, words[0] == "LATIN", words[2] == "LETTER", words[3].count == 1,
              let letter = words[3].first, letter.isASCII, letter.isLetter else { return nil }
        return words[1] == "SMALL" ? Character(letter.lowercased()) : letter
    }
}
