import HAL
import Locking
import Synchronization

/// An HD44780 character LCD behind a PCF8574 I2C port expander ("I2C backpack").
///
/// ## PCF8574 bit mapping (the common backpack wiring)
///
/// | PCF8574 pin | bit | HD44780 |
/// | --- | --- | --- |
/// | P0 | 0x01 | RS (0 = command, 1 = data) |
/// | P1 | 0x02 | RW (always 0: write only) |
/// | P2 | 0x04 | EN (data latched on its falling edge) |
/// | P3 | 0x08 | backlight (1 = on) |
/// | P4…P7 | 0xF0 | D4…D7 |
///
/// ## Byte sequence
///
/// The LCD runs in 4-bit mode. Every byte for the LCD (command or character) is sent as two
/// nibbles, high nibble first; each nibble is two I2C bytes: `n<<4 | BL | RS | EN`, then
/// the same without EN (the falling edge latches it). So a character costs 4 I2C bytes.
///
/// Initialisation (`initialize()`), one I2C write, BL = 0x08 with the backlight on:
/// 1. `BL` (all lines low),
/// 2. nibble 0x3, wait ≥ 4.1 ms; nibble 0x3, wait ≥ 100 µs; nibble 0x3, wait ≥ 100 µs;
///    nibble 0x2 (now in 4-bit mode) – the datasheet's "initialisation by instruction",
///    which works whether the LCD was in 8-bit mode (power-on) or already in 4-bit mode
///    (firmware restart),
/// 3. commands 0x28 (function set: 4-bit, 2 lines, 5×8 dots), 0x08 (display off),
///    0x01 (clear, wait ≥ 1.52 ms), 0x06 (entry mode: increment, no shift),
/// 4. command 0x40 (CGRAM address 0) and the 8 pattern rows of the euro sign as data, so
///    character code 0x00 shows € (see `HD44780Charset`),
/// 5. command 0x0C (display on, cursor off, blink off).
///
/// A decoder (the simulator) acts on falling EN edges only, so padding bytes are no-ops.
///
/// `show(lines:)` writes, per row, command `0x80 | address` (row starts 0x00, 0x40,
/// 0x00 + columns, 0x40 + columns) then `columns` characters as data, padded with spaces:
/// it never uses the slow clear command, so a screen update has no waits. After the first
/// screen it writes only what changed: per row, the address of the first changed cell and the
/// cells up to the last changed one (`updateBytes`). A charging screen whose kW and kWh move
/// costs about 60 bus bytes instead of 336 (20×4), 5 ms instead of 30 ms at 100 kHz on the
/// loop's thread. Every `fullRedrawEvery`-th update, after a failed write and after
/// `initialize()`, the whole screen is written again: an LCD garbled by interference (a
/// contactor switching next to its cable) heals within about a minute of updates.
///
/// ## Waits without sleeping
///
/// Drivers never sleep. The waits the HD44780 needs are made with I2C bus time: the
/// "idle" byte (`BL`, EN low) is repeated; on a 100 kHz bus each byte takes 9 bit times
/// (90 µs), so `ceil(wait / byteTime)` repetitions cover a wait. Every other command needs
/// ≤ 37 µs, less than one byte on the bus. The bus speed is in the config.
public final class HD44780Display: TextDisplay {
    public struct Config: Hashable, Sendable {
        public var columns: Int
        public var rows: Int
        public var backlight: Bool
        /// The I2C bus clock, used to turn required waits into padding bytes.
        public var busClockHz: Int
        /// The character ROM: A02 shows the accented Latin-1 letters, A00 their base letters.
        public var rom: HD44780Charset.ROM = .a00

        public init(columns: Int = 20, rows: Int = 4, backlight: Bool = true, busClockHz: Int = 100_000, rom: HD44780Charset.ROM = .a00) {
            self.rom = rom
            self.columns = columns
            self.rows = rows
            self.backlight = backlight
            self.busClockHz = busClockHz
        }
    }

    // PCF8574 bits.
    public static let rsBit: UInt8 = 0x01
    public static let rwBit: UInt8 = 0x02
    public static let enableBit: UInt8 = 0x04
    public static let backlightBit: UInt8 = 0x08

    public let config: Config
    public var columns: Int { config.columns }
    public var rows: Int { config.rows }
    private let device: any I2CDevice
    private let initialized = Mutex(false)
    private struct Screen {
        /// The character codes on the LCD per row as last written; nil when unknown (never
        /// written, a write failed, or the LCD was initialised again).
        var drawn: [[UInt8]]?
        var updatesSinceFullRedraw = 0
    }
    private let screen = Mutex(Screen())
    /// Every this many updates, the whole screen is written again (see the type's comment).
    public static let fullRedrawEvery = 60

    public init(i2c device: any I2CDevice, config: Config) throws(DisplayError) {
        guard [16, 20].contains(config.columns), [2, 4].contains(config.rows) else {
            throw .unsupportedGeometry(columns: config.columns, rows: config.rows)
        }
        guard config.busClockHz >= 10_000 else {
            throw .invalidConfiguration("I2C bus clock must be at least 10 kHz, got \(config.busClockHz) Hz")
        }
        self.config = config
        self.device = device
    }

    public convenience init(i2c device: any I2CDevice, columns: Int, rows: Int, rom: HD44780Charset.ROM = .a00) throws(DisplayError) {
        try self.init(i2c: device, config: Config(columns: columns, rows: rows, rom: rom))
    }

    private var bl: UInt8 { config.backlight ? Self.backlightBit : 0 }

    /// The two I2C bytes that clock one nibble into the LCD.
    public func nibbleBytes(_ nibble: UInt8, data: Bool) -> [UInt8] {
        let b = (nibble & 0x0F) << 4 | bl | (data ? Self.rsBit : 0)
        return [b | Self.enableBit, b]
    }

    /// The four I2C bytes that send one command (data: false) or character (data: true).
    public func byteBytes(_ value: UInt8, data: Bool) -> [UInt8] {
        nibbleBytes(value >> 4, data: data) + nibbleBytes(value & 0x0F, data: data)
    }

    /// Idle bytes that keep the bus busy for at least `microseconds`.
    public func padding(microseconds: Int) -> [UInt8] {
        let byteNs = 9 * 1_000_000_000 / config.busClockHz
        let count = (microseconds * 1_000 + byteNs - 1) / byteNs
        return Array(repeating: bl, count: count)
    }

    /// DDRAM address of the first cell of `row`.
    public func rowAddress(_ row: Int) -> UInt8 {
        let base: [Int] = [0x00, 0x40, config.columns, 0x40 + config.columns]
        return UInt8(base[row % 4])
    }

    /// The full initialisation byte stream (see the type's documentation).
    public func initializationBytes() -> [UInt8] {
        var out: [UInt8] = [bl]
        out += nibbleBytes(0x3, data: false) + padding(microseconds: 4_100)
        out += nibbleBytes(0x3, data: false) + padding(microseconds: 100)
        out += nibbleBytes(0x3, data: false) + padding(microseconds: 100)
        out += nibbleBytes(0x2, data: false)
        out += byteBytes(0x28, data: false)
        out += byteBytes(0x08, data: false)
        out += byteBytes(0x01, data: false) + padding(microseconds: 1_520)
        out += byteBytes(0x06, data: false)
        out += byteBytes(0x40 | (HD44780Charset.euroCode << 3), data: false)
        for row in HD44780Charset.euroGlyph { out += byteBytes(row, data: true) }
        out += byteBytes(0x0C, data: false)
        return out
    }

    /// The character codes of each row of `lines` (cut/padded to the screen).
    public func rowCodes(_ lines: [String]) -> [[UInt8]] {
        TextLayout.fit(lines, columns: columns, rows: rows).map { line in
            var codes = Array(HD44780Charset.encode(line, rom: config.rom).prefix(columns))
            // A spelled-out letter ("oe") may lengthen the line: pad again to the full row.
            while codes.count < columns { codes.append(0x20) }
            return codes
        }
    }

    /// The byte stream that draws `lines` (cut/padded to the screen).
    public func screenBytes(_ lines: [String]) -> [UInt8] {
        screenBytes(rows: rowCodes(lines))
    }

    private func screenBytes(rows: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (row, codes) in rows.enumerated() {
            out += byteBytes(0x80 | rowAddress(row), data: false)
            for code in codes { out += byteBytes(code, data: true) }
        }
        return out
    }

    /// The byte stream that turns the rows `old` into `new`: per row with a change, the DDRAM
    /// address of its first changed cell, then the cells up to its last changed one (the
    /// address increments after each character). Empty when nothing changed.
    public func updateBytes(from old: [[UInt8]], to new: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (row, codes) in new.enumerated() {
            let before = row < old.count ? old[row] : []
            let changed = codes.indices.filter { $0 >= before.count || before[$0] != codes[$0] }
            guard let first = changed.first, let last = changed.last else { continue }
            out += byteBytes(0x80 | (rowAddress(row) + UInt8(first)), data: false)
            for code in codes[first...last] { out += byteBytes(code, data: true) }
        }
        return out
    }

    /// Sends the initialisation sequence. `show` does this on first use; call it again after
    /// the display lost power.
    public func initialize() throws {
        screen.locked { $0.drawn = nil }
        try device.write(initializationBytes())
        initialized.locked { $0 = true }
    }

    public func show(lines: [String]) throws {
        if !initialized.locked({ $0 }) { try initialize() }
        let codes = rowCodes(lines)
        let bytes = screen.locked { s -> [UInt8] in
            s.updatesSinceFullRedraw += 1
            if let old = s.drawn, s.updatesSinceFullRedraw < Self.fullRedrawEvery {
                return updateBytes(from: old, to: codes)
            }
            s.updatesSinceFullRedraw = 0
            return screenBytes(rows: codes)
        }
        guard !bytes.isEmpty else { return }
        // Until the write is known to have landed, what the LCD shows is unknown.
        screen.locked { $0.drawn = nil }
        try device.write(bytes)
        screen.locked { $0.drawn = codes }
    }
}
