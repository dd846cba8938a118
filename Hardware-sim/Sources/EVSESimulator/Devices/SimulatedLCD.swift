import Drivers

/// An HD44780 character LCD behind a PCF8574 I2C backpack, decoded from the bytes the
/// firmware writes to the expander: P0 = RS, P1 = RW, P2 = EN, P3 = backlight, P4–P7 = D4–D7.
/// The controller latches on the falling edge of EN; after power-up it is in 8-bit mode and
/// the usual 0x3, 0x3, 0x3, 0x2 sequence puts it into 4-bit mode, exactly as the real chip
/// does, so a firmware restarting mid-byte resynchronises the same way.
public struct SimulatedLCD: Sendable {
    public let columns: Int
    public let rows: Int
    /// 0x00–0x27 for line 1, 0x40–0x67 for line 2 (a 20×4 shows lines 3/4 at 0x14/0x54).
    private var ddram = [UInt8](repeating: 0x20, count: 0x80)
    private var address = 0
    private var increment = true
    private var writingCGRAM = false
    private var fourBitMode = false
    private var pendingHighNibble: UInt8?
    private var lastPort: UInt8 = 0
    public private(set) var displayOn = false
    public private(set) var backlight = false

    /// A00 (Japanese) or A02 (European: Latin-1 letters at 0xC0–0xFF).
    public let rom: HD44780Charset.ROM

    public init(columns: Int = 20, rows: Int = 4, rom: HD44780Charset.ROM = .a00) {
        self.columns = columns
        self.rows = rows
        self.rom = rom
    }

    /// Feeds bytes written to the PCF8574 port.
    public mutating func write(_ bytes: [UInt8]) {
        for port in bytes {
            backlight = port & 0x08 != 0
            let enWasHigh = lastPort & 0x04 != 0
            let enIsHigh = port & 0x04 != 0
            // Data is sampled from the port as it was while EN was high.
            if enWasHigh && !enIsHigh { latch(lastPort) }
            lastPort = port
        }
    }

    private mutating func latch(_ port: UInt8) {
        let rs = port & 0x01 != 0
        let rw = port & 0x02 != 0
        if rw { return }  // reads (busy flag) have no effect on what is shown
        let nibble = port >> 4
        if !fourBitMode {
            // 8-bit mode: D0–D3 are not wired, each pulse is a whole byte with the low nibble 0.
            execute(nibble << 4, rs: rs)
            return
        }
        if let high = pendingHighNibble {
            pendingHighNibble = nil
            execute(high << 4 | nibble, rs: rs)
        } else {
            pendingHighNibble = nibble
        }
    }

    private mutating func execute(_ byte: UInt8, rs: Bool) {
        if rs {
            if writingCGRAM { return }
            ddram[address & 0x7F] = byte
            step()
            return
        }
        if byte & 0x80 != 0 {
            address = Int(byte & 0x7F)
            writingCGRAM = false
        } else if byte & 0x40 != 0 {
            writingCGRAM = true
        } else if byte & 0x20 != 0 {
            fourBitMode = byte & 0x10 == 0
            pendingHighNibble = nil
        } else if byte & 0x10 != 0 {
            // cursor/display shift: not shown by the simulator
        } else if byte & 0x08 != 0 {
            displayOn = byte & 0x04 != 0
        } else if byte & 0x04 != 0 {
            increment = byte & 0x02 != 0
        } else if byte & 0x02 != 0 {
            address = 0
            writingCGRAM = false
        } else if byte == 0x01 {
            for i in ddram.indices { ddram[i] = 0x20 }
            address = 0
            increment = true
            writingCGRAM = false
        }
    }

    private mutating func step() {
        // DDRAM wraps from the end of line 1 (0x27) to line 2 (0x40) and from 0x67 back to 0.
        if increment {
            address += 1
            if address == 0x28 { address = 0x40 } else if address >= 0x68 { address = 0 }
        } else {
            address -= 1
            if address < 0 { address = 0x67 } else if address == 0x3F { address = 0x27 }
        }
    }

    public static func rowAddresses(columns: Int, rows: Int) -> [Int] {
        [0x00, 0x40, columns, 0x40 + columns].prefix(rows).map { $0 }
    }

    /// The rows as the glass shows them, each exactly `columns` characters.
    public var rowsText: [String] {
        SimulatedLCD.rowAddresses(columns: columns, rows: rows).map { base in
            String((0..<columns).map { SimulatedLCD.character(ddram[(base + $0) & 0x7F], rom: rom) })
        }
    }

    /// The rows without trailing blanks.
    public var lines: [String] {
        rowsText.map { row in
            var s = Substring(row)
            while s.last == " " { s = s.dropLast() }
            return String(s)
        }
    }

    /// Character ROM A00: ASCII in 0x20–0x7D, a few symbols elsewhere.
    static func character(_ code: UInt8, rom: HD44780Charset.ROM = .a00) -> Character {
        if rom == .a02, code >= 0xC0, let s = Unicode.Scalar(UInt32(code)) { return Character(s) }
        switch code {
        case 0x20...0x7D: return Character(Unicode.Scalar(code))
        case 0x7E: return "→"
        case 0x7F: return "←"
        case 0xDF: return "°"
        case 0xE4: return "µ"
        default: return "?"
        }
    }
}
