/// Maps Unicode text to character codes of the HD44780 with the A00 (Japanese) character ROM,
/// the one on nearly every cheap 16×2/20×4 module.
///
/// - ASCII 0x20…0x7D maps to itself, except `\` (0x5C is ¥ in A00) and `~` (0x7E is →).
/// - Glyphs A00 has: ä→0xE1, ö→0xEF, ü→0xF5, ß→0xE2 (its β), °→0xDF, µ→0xE4, ñ→0xEE,
///   ¥→0x5C, →→0x7E, ←→0x7F, Ω→0xF4, Σ→0xF6, π→0xF7, ÷→0xFD, √→0xE8, ¢→0xEC, ·→0xA5.
/// - € has no ROM glyph: it is drawn from CGRAM slot 0 (code 0x00), which
///   `HD44780Display` loads during initialisation.
/// - Letters with accents A00 lacks fall back to the base letter (Ä→A, é→e, Ç→C, …).
/// - Anything else becomes `?`.
///
/// With the A02 (European) ROM, codes 0xC0…0xFF hold the Latin-1 letters À…ÿ at their
/// ISO 8859-1 positions, so é, à, ç, Ä, ß and the rest are shown as they are; only what
/// neither ROM has is transliterated.
public enum HD44780Charset {
    /// The character ROM a module was made with (the letter after "HD44780U" on its controller:
    /// A00 Japanese, A02 European).
    public enum ROM: String, Sendable, Hashable, CaseIterable {
        case a00 = "A00"
        case a02 = "A02"
    }

    /// The CGRAM slot holding the euro sign.
    public static let euroCode: UInt8 = 0x00

    /// 5×8 pattern of the euro sign for CGRAM (rows top to bottom, bit 4 = leftmost pixel).
    public static let euroGlyph: [UInt8] = [0b00110, 0b01001, 0b11100, 0b01000, 0b11100, 0b01001, 0b00110, 0b00000]

    private static let special: [Character: UInt8] = [
        "ä": 0xE1, "ö": 0xEF, "ü": 0xF5, "ß": 0xE2, "°": 0xDF, "µ": 0xE4, "μ": 0xE4, "ñ": 0xEE,
        "¥": 0x5C, "→": 0x7E, "←": 0x7F, "Ω": 0xF4, "Σ": 0xF6, "π": 0xF7, "÷": 0xFD, "√": 0xE8,
        "¢": 0xEC, "·": 0xA5, "€": euroCode,
    ]

    private static let fallback: [Character: Character] = [
        "Ä": "A", "Ö": "O", "Ü": "U", "À": "A", "Á": "A", "Â": "A", "Ã": "A", "Å": "A",
        "à": "a", "á": "a", "â": "a", "ã": "a", "å": "a", "Ç": "C", "ç": "c",
        "È": "E", "É": "E", "Ê": "E", "Ë": "E", "è": "e", "é": "e", "ê": "e", "ë": "e",
        "Ì": "I", "Í": "I", "Î": "I", "Ï": "I", "ì": "i", "í": "i", "î": "i", "ï": "i",
        "Ñ": "N", "Ò": "O", "Ó": "O", "Ô": "O", "Õ": "O", "Ø": "O", "ò": "o", "ó": "o", "ô": "o",
        "õ": "o", "ø": "o", "Ù": "U", "Ú": "U", "Û": "U", "ù": "u", "ú": "u", "û": "u",
        "Ý": "Y", "ý": "y", "ÿ": "y", "Š": "S", "š": "s", "Ž": "Z", "ž": "z", "Ł": "L", "ł": "l",
        "–": "-", "—": "-", "‘": "'", "’": "'", "“": "\"", "”": "\"", "…": ".",
    ]

    /// The ROM code for one character.
    public static func code(for character: Character, rom: ROM = .a00) -> UInt8 {
        if rom == .a02 {
            if character == "€" { return euroCode }
            if character.unicodeScalars.count == 1, let s = character.unicodeScalars.first, (0xC0...0xFF).contains(s.value) {
                return UInt8(s.value)
            }
            if let ascii = character.asciiValue, (0x20...0x7D).contains(ascii), ascii != 0x5C { return ascii }
            let plain = TextTransliteration.plain(character)
            return plain.count == 1 && plain != String(character) ? code(for: Character(plain), rom: .a02) : UInt8(ascii: "?")
        }
        if let c = special[character] { return c }
        if let f = fallback[character] { return code(for: f) }
        let plain = TextTransliteration.plain(character)
        if plain.count == 1, plain != String(character), let p = plain.first { return code(for: p) }
        guard let ascii = character.asciiValue else { return UInt8(ascii: "?") }
        switch ascii {
        case 0x5C, 0x7E: return UInt8(ascii: "?")  // \ and ~ have no glyph in A00
        case 0x20...0x7D: return ascii
        default: return UInt8(ascii: "?")          // control characters
        }
    }

    /// One code per character (grapheme cluster).
    public static func encode(_ text: String, rom: ROM = .a00) -> [UInt8] {
        var out: [UInt8] = []
        for c in text {
            // A multi-letter spelling ("oe" for œ) keeps the letters rather than one "?".
            let plain = TextTransliteration.plain(c)
            if code(for: c, rom: rom) == UInt8(ascii: "?"), c != "?", plain.count > 1, plain != "?" {
                out += plain.map { code(for: $0, rom: rom) }
            } else {
                out.append(code(for: c, rom: rom))
            }
        }
        return out
    }
}
