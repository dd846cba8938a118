import Drivers

/// An SSD1306 128×64 OLED as the firmware's I2C writes program it: the control byte
/// (0x00 commands, 0x40 GDDRAM data, bit 7 = one command byte then another control byte),
/// the commands with their argument bytes, page addressing (B0–B7, 00–0F, 10–1F) and
/// horizontal addressing (20 00 with 21/22 ranges), the 1 KiB GDDRAM, and what reaches the
/// glass: nothing lights without the charge pump (8D 14) and display on (AF); A0/A1 and C0/C8
/// decide whether the picture is mirrored, as on a real module mounted the usual way.
public struct SimulatedSSD1306: Sendable {
    public static let width = 128
    public static let height = 64

    public private(set) var gddram = [UInt8](repeating: 0, count: 1024)
    public private(set) var displayOn = false
    public private(set) var chargePump = false
    public private(set) var segmentRemap = false
    public private(set) var comReversed = false
    public private(set) var inverted = false
    public private(set) var entireOn = false
    public private(set) var contrast: UInt8 = 0x7F
    /// 0 horizontal, 1 vertical, 2 page (the reset state).
    public private(set) var addressingMode = 2
    private var page = 0
    private var column = 0
    private var columnRange = 0...127
    private var pageRange = 0...7
    /// A command waiting for argument bytes.
    private var pending: (command: UInt8, arguments: [UInt8], needed: Int)?
    /// Bytes written since start, for the API.
    public private(set) var writes = 0

    public init() {}

    /// One I2C write to the device.
    public mutating func write(_ bytes: [UInt8]) {
        writes += 1
        var i = 0
        while i < bytes.count {
            let control = bytes[i]
            i += 1
            let isData = control & 0x40 != 0
            let single = control & 0x80 != 0
            if single {
                if i < bytes.count { isData ? data(bytes[i]) : command(bytes[i]) }
                i += 1
                continue
            }
            while i < bytes.count {
                isData ? data(bytes[i]) : command(bytes[i])
                i += 1
            }
        }
    }

    static func argumentCount(_ c: UInt8) -> Int {
        switch c {
        case 0x81, 0x8D, 0xA8, 0xD3, 0xD5, 0xD9, 0xDA, 0xDB, 0x20: return 1
        case 0x21, 0x22, 0xA3: return 2
        case 0x26, 0x27: return 6
        case 0x29, 0x2A: return 5
        default: return 0
        }
    }

    private mutating func command(_ byte: UInt8) {
        if var p = pending {
            p.arguments.append(byte)
            if p.arguments.count == p.needed {
                pending = nil
                execute(p.command, p.arguments)
            } else {
                pending = p
            }
            return
        }
        let n = Self.argumentCount(byte)
        if n > 0 { pending = (byte, [], n) } else { execute(byte, []) }
    }

    private mutating func execute(_ c: UInt8, _ args: [UInt8]) {
        switch c {
        case 0xAE: displayOn = false
        case 0xAF: displayOn = true
        case 0xA0: segmentRemap = false
        case 0xA1: segmentRemap = true
        case 0xC0: comReversed = false
        case 0xC8: comReversed = true
        case 0xA6: inverted = false
        case 0xA7: inverted = true
        case 0xA4: entireOn = false
        case 0xA5: entireOn = true
        case 0x81: contrast = args[0]
        case 0x8D: chargePump = args[0] & 0x04 != 0
        case 0x20: addressingMode = Int(args[0] & 0x03) == 3 ? 2 : Int(args[0] & 0x03)
        case 0x21:
            let a = Int(args[0] & 0x7F), b = Int(args[1] & 0x7F)
            columnRange = min(a, b)...max(a, b)
            column = columnRange.lowerBound
        case 0x22:
            let a = Int(args[0] & 0x07), b = Int(args[1] & 0x07)
            pageRange = min(a, b)...max(a, b)
            page = pageRange.lowerBound
        case 0xB0...0xB7: page = Int(c & 0x07)
        case 0x00...0x0F: column = (column & 0xF0) | Int(c & 0x0F)
        case 0x10...0x1F: column = (column & 0x0F) | (Int(c & 0x0F) << 4)
        default: break  // timing, multiplex, scrolling: no effect on what the picture is
        }
    }

    private mutating func data(_ byte: UInt8) {
        gddram[(page & 7) * Self.width + (column & 0x7F)] = byte
        switch addressingMode {
        case 0:
            if column >= columnRange.upperBound {
                column = columnRange.lowerBound
                page = page >= pageRange.upperBound ? pageRange.lowerBound : page + 1
            } else { column += 1 }
        case 1:
            if page >= pageRange.upperBound {
                page = pageRange.lowerBound
                column = column >= columnRange.upperBound ? columnRange.lowerBound : column + 1
            } else { page += 1 }
        default:
            column = (column + 1) & 0x7F
        }
    }

    /// Whether the pixel at glass position (x, y), top left 0,0, is lit.
    public func lit(x: Int, y: Int) -> Bool {
        guard displayOn, chargePump else { return false }
        if entireOn { return true }
        let col = segmentRemap ? Self.width - 1 - x : x
        let row = comReversed ? Self.height - 1 - y : y
        // Without the remaps the picture is upside down and mirrored as mounted.
        let gx = Self.width - 1 - col
        let gy = Self.height - 1 - row
        let on = gddram[(gy / 8) * Self.width + gx] >> UInt8(gy % 8) & 1 == 1
        return on != inverted
    }

    /// The glass, one string per pixel row: `#` lit, `.` dark.
    public var pixelRows: [String] {
        (0..<Self.height).map { y in String((0..<Self.width).map { lit(x: $0, y: y) ? "#" : "." }) }
    }

    /// The text the glass shows, read back cell by cell (6×8) against the firmware's font: what
    /// a person reading the display would read, for tests. A cell matching no glyph reads `▒`.
    public var textRows: [String] {
        var lookup: [[UInt8]: Character] = [:]
        for (scalar, glyph) in DisplayFont.glyphs.sorted(by: { $0.key > $1.key }) {
            if let s = Unicode.Scalar(scalar) { lookup[glyph + [0]] = Character(s) }
        }
        lookup[[0, 0, 0, 0, 0, 0]] = " "
        return (0..<(Self.height / 8)).map { row in
            var line = ""
            for cell in 0..<(Self.width / 6) {
                let columns: [UInt8] = (0..<6).map { dx in
                    var byte: UInt8 = 0
                    for dy in 0..<8 where lit(x: cell * 6 + dx, y: row * 8 + dy) { byte |= 1 << UInt8(dy) }
                    return byte
                }
                line.append(lookup[columns] ?? "▒")
            }
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// Lit pixels, for a quick "is anything on" check.
    public var litCount: Int {
        var n = 0
        for y in 0..<Self.height { for x in 0..<Self.width where lit(x: x, y: y) { n += 1 } }
        return n
    }
}
