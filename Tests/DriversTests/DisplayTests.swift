import Testing
import HAL
import HALFake
import Locking
import Synchronization
@testable import Drivers

/// Decodes PCF8574 → HD44780 bytes the way the LCD does: latches a nibble on each falling
/// EN edge, pairs nibbles, executes the few commands the driver uses.
struct HD44780Model {
    var ddram = [UInt8](repeating: 0x20, count: 128)
    var cgram = [UInt8](repeating: 0, count: 64)
    var address = 0
    var cgMode = false
    var fourBit = false
    var pendingHigh: UInt8?
    var lastEN = false
    var commands: [UInt8] = []
    var displayOn = false

    mutating func feed(_ bytes: [UInt8]) {
        for b in bytes {
            let en = b & 0x04 != 0
            defer { lastEN = en }
            guard lastEN, !en else { continue }  // falling edge
            let nibble = b >> 4, rs = b & 0x01 != 0
            if !fourBit {
                // 8-bit mode: only the upper four data lines are wired, so each strobe is a command.
                if nibble == 0x2 { fourBit = true }
                commands.append(nibble << 4)
                continue
            }
            if let high = pendingHigh {
                pendingHigh = nil
                execute((high << 4) | nibble, data: rs)
            } else {
                pendingHigh = nibble
            }
        }
    }

    mutating func execute(_ v: UInt8, data: Bool) {
        if data {
            if cgMode { cgram[address & 0x3F] = v } else { ddram[address & 0x7F] = v }
            address += 1
            return
        }
        commands.append(v)
        if v & 0x80 != 0 { address = Int(v & 0x7F); cgMode = false }
        else if v & 0x40 != 0 { address = Int(v & 0x3F); cgMode = true }
        else if v == 0x01 { ddram = [UInt8](repeating: 0x20, count: 128); address = 0 }
        else if v & 0x30 != 0 { /* function set, cursor shift: nothing to model */ }
        else if v & 0x08 != 0 { displayOn = v & 0x04 != 0 }
    }

    func row(_ start: Int, _ columns: Int) -> [UInt8] { Array(ddram[start..<start + columns]) }
}

func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("HD44780 display")
struct HD44780Tests {
    let backend = FakeBackend()

    func display(columns: Int = 16, rows: Int = 2, backlight: Bool = true) throws -> (HD44780Display, FakeI2CDevice) {
        let dev = try backend.openI2CDevice(bus: "sim", address: 0x27)
        let d = try HD44780Display(i2c: dev, config: .init(columns: columns, rows: rows, backlight: backlight))
        return (d, try #require(backend.i2cDevice(bus: "sim", address: 0x27)))
    }

    @Test func initialisationByteSequence() throws {
        let (d, dev) = try display()
        try d.initialize()
        let pad = { (n: Int) in [UInt8](repeating: 0x08, count: n) }
        var expected: [UInt8] = [0x08]
        expected += [0x3C, 0x38] + pad(46)          // 0x3, ≥ 4.1 ms (46 × 90 µs)
        expected += [0x3C, 0x38] + pad(2)           // 0x3, ≥ 100 µs
        expected += [0x3C, 0x38] + pad(2)           // 0x3
        expected += [0x2C, 0x28]                    // 0x2: 4-bit mode
        expected += [0x2C, 0x28, 0x8C, 0x88]        // 0x28 function set
        expected += [0x0C, 0x08, 0x8C, 0x88]        // 0x08 display off
        expected += [0x0C, 0x08, 0x1C, 0x18] + pad(17)  // 0x01 clear, ≥ 1.52 ms
        expected += [0x0C, 0x08, 0x6C, 0x68]        // 0x06 entry mode
        expected += [0x4C, 0x48, 0x0C, 0x08]        // 0x40 CGRAM address 0
        expected += [0x0D, 0x09, 0x6D, 0x69, 0x0D, 0x09, 0x9D, 0x99, 0x1D, 0x19, 0xCD, 0xC9,
                     0x0D, 0x09, 0x8D, 0x89, 0x1D, 0x19, 0xCD, 0xC9, 0x0D, 0x09, 0x9D, 0x99,
                     0x0D, 0x09, 0x6D, 0x69, 0x0D, 0x09, 0x0D, 0x09]  // € glyph rows as data
        expected += [0x0C, 0x08, 0xCC, 0xC8]        // 0x0C display on
        #expect(dev.written == expected)
    }

    @Test func shortTextByteSequence() throws {
        let (d, dev) = try display()
        try d.initialize()
        dev.clearWritten()
        try d.show(lines: ["Hi"])
        var expected: [UInt8] = [0x8C, 0x88, 0x0C, 0x08]             // DDRAM 0x00
        expected += [0x4D, 0x49, 0x8D, 0x89, 0x6D, 0x69, 0x9D, 0x99]  // "H", "i"
        for _ in 0..<14 { expected += [0x2D, 0x29, 0x0D, 0x09] }      // padding spaces
        expected += [0xCC, 0xC8, 0x0C, 0x08]                          // DDRAM 0x40
        for _ in 0..<16 { expected += [0x2D, 0x29, 0x0D, 0x09] }
        #expect(dev.written == expected)
    }

    @Test func showInitialisesOnFirstUseOnly() throws {
        let (d, dev) = try display()
        try d.show(lines: ["a"])
        let first = dev.written.count
        #expect(first == d.initializationBytes().count + d.screenBytes(["a"]).count)
        dev.clearWritten()
        try d.show(lines: ["a"])
        #expect(dev.written.isEmpty, "the same screen again writes nothing")
    }

    @Test("after the first screen only the changed cells are written, and the LCD shows the whole new screen")
    func onlyChangedCellsAreWritten() throws {
        let (d, dev) = try display(columns: 20, rows: 4)
        var lcd = HD44780Model()
        try d.show(lines: ["Charging #1", "7.4 kW  12.3 kWh", "00:42", "0,39 EUR/kWh"])
        lcd.feed(dev.written)
        dev.clearWritten()
        try d.show(lines: ["Charging #1", "7.5 kW  12.4 kWh", "00:43", "0,39 EUR/kWh"])
        // Row 2: cells 2…11 ("5 kW  12.4"), row 3: cell 4 ("3"); nothing of rows 1 and 4.
        var expected = d.byteBytes(0x80 | (0x40 + 2), data: false)
        for c in ascii("5 kW  12.4") { expected += d.byteBytes(c, data: true) }
        expected += d.byteBytes(0x80 | (0x14 + 4), data: false) + d.byteBytes(ascii("3")[0], data: true)
        #expect(dev.written == expected)
        lcd.feed(dev.written)
        #expect(lcd.row(0x00, 20) == ascii("Charging #1".padding(toLength: 20, withPad: " ", startingAt: 0)))
        #expect(lcd.row(0x40, 20) == ascii("7.5 kW  12.4 kWh    "))
        #expect(lcd.row(0x14, 20) == ascii("00:43               "))
        #expect(lcd.row(0x54, 20) == ascii("0,39 EUR/kWh        "))
    }

    @Test("a failed write, a new initialisation and every 60th update write the whole screen again")
    func wholeScreenAgainWhenTheLCDMayDiffer() throws {
        let (d, dev) = try display()
        try d.show(lines: ["a"])
        dev.failNextWrite = true
        #expect(throws: HardwareError.self) { try d.show(lines: ["b"]) }
        dev.clearWritten()
        try d.show(lines: ["b"])
        #expect(dev.written == d.screenBytes(["b"]), "after a failed write")
        try d.initialize()
        dev.clearWritten()
        try d.show(lines: ["b"])
        #expect(dev.written == d.screenBytes(["b"]), "after initialize()")
        var fullScreens = 0
        for n in 0..<(2 * HD44780Display.fullRedrawEvery) {
            dev.clearWritten()
            try d.show(lines: ["n \(n % 10)"])
            if dev.written == d.screenBytes(["n \(n % 10)"]) { fullScreens += 1 }
        }
        #expect(fullScreens == 2, "a whole screen every \(HD44780Display.fullRedrawEvery) updates")
    }

    @Test func backlightOffClearsBit3() throws {
        let (d, dev) = try display(backlight: false)
        try d.show(lines: ["x"])
        #expect(dev.written.allSatisfy { $0 & 0x08 == 0 })
    }

    @Test func decodedScreen20x4() throws {
        let (d, dev) = try display(columns: 20, rows: 4)
        try d.show(lines: ["Ladepunkt 1", "Karte vorhalten", "0,39 €/kWh", "22 kW 32 A 3~ ü°"])
        var lcd = HD44780Model()
        lcd.feed(dev.written)
        #expect(lcd.commands.prefix(4) == [0x30, 0x30, 0x30, 0x20])
        #expect(lcd.displayOn)
        #expect(lcd.row(0x00, 20) == ascii("Ladepunkt 1         "))
        #expect(lcd.row(0x40, 20) == ascii("Karte vorhalten     "))
        #expect(lcd.row(0x14, 20) == ascii("0,39 ") + [0x00] + ascii("/kWh          "))
        #expect(lcd.row(0x54, 20) == ascii("22 kW 32 A 3? ") + [0xF5, 0xDF] + ascii("    "))
        #expect(Array(lcd.cgram[0..<8]) == HD44780Charset.euroGlyph)
    }

    @Test func rowAddresses() throws {
        let (d16, _) = try display(columns: 16, rows: 4)
        #expect((0..<4).map(d16.rowAddress) == [0x00, 0x40, 0x10, 0x50])
        let backend2 = FakeBackend()
        let d20 = try HD44780Display(i2c: try backend2.openI2CDevice(bus: "1", address: 0x3F), columns: 20, rows: 4)
        #expect((0..<4).map(d20.rowAddress) == [0x00, 0x40, 0x14, 0x54])
    }

    @Test func longLinesAreCutAndExtraLinesDropped() throws {
        let (d, dev) = try display()
        try d.show(lines: ["0123456789ABCDEFGHIJ", "second", "third"])
        var lcd = HD44780Model()
        lcd.feed(dev.written)
        #expect(lcd.row(0x00, 16) == ascii("0123456789ABCDEF"))
        #expect(lcd.row(0x10, 4) == ascii("    "), "nothing spills past the row")
        #expect(lcd.row(0x40, 16) == ascii("second          "))
    }

    @Test func unsupportedGeometryIsRejected() throws {
        let dev = try backend.openI2CDevice(bus: "sim", address: 0x27)
        #expect(throws: DisplayError.unsupportedGeometry(columns: 40, rows: 2)) {
            _ = try HD44780Display(i2c: dev, columns: 40, rows: 2)
        }
        #expect(throws: DisplayError.self) { _ = try HD44780Display(i2c: dev, columns: 16, rows: 3) }
        #expect(throws: DisplayError.self) {
            _ = try HD44780Display(i2c: dev, config: .init(columns: 16, rows: 2, busClockHz: 0))
        }
    }

    @Test func fasterBusNeedsMorePadding() throws {
        let dev = try backend.openI2CDevice(bus: "sim", address: 0x27)
        let fast = try HD44780Display(i2c: dev, config: .init(columns: 16, rows: 2, busClockHz: 400_000))
        #expect(fast.padding(microseconds: 4_100).count == 183)  // 22.5 µs per byte
        let (slow, _) = try display()
        #expect(slow.padding(microseconds: 4_100).count == 46)
        #expect(slow.padding(microseconds: 90).count == 1)
        #expect(slow.padding(microseconds: 91).count == 2)
    }
}

@Suite("HD44780 character set")
struct HD44780CharsetTests {
    @Test("mapping to the A00 ROM", arguments: [
        ("A", UInt8(0x41)), ("z", 0x7A), (" ", 0x20), ("}", 0x7D), ("ä", 0xE1), ("ö", 0xEF), ("ü", 0xF5),
        ("ß", 0xE2), ("°", 0xDF), ("µ", 0xE4), ("€", 0x00), ("→", 0x7E), ("Ä", 0x41), ("Ö", 0x4F),
        ("Ü", 0x55), ("é", 0x65), ("Ç", 0x43), ("\\", 0x3F), ("~", 0x3F), ("\t", 0x3F), ("😀", 0x3F),
        ("漢", 0x3F), ("–", 0x2D),
    ] as [(Character, UInt8)])
    func mapping(character: Character, code: UInt8) {
        #expect(HD44780Charset.code(for: character) == code)
    }

    @Test func encodeCountsGraphemes() {
        #expect(HD44780Charset.encode("e\u{301}x") == [0x65, 0x78], "é as e + combining accent is one cell")
        #expect(HD44780Charset.encode("Grüße") == [0x47, 0x72, 0xF5, 0xE2, 0x65])
    }
}

@Suite("TextLayout")
struct TextLayoutTests {
    @Test func wrapsAtWords() {
        #expect(TextLayout.wrap("Please present your card", columns: 16, rows: 2) == ["Please present", "your card"])
        #expect(TextLayout.wrap("exactly sixteen!", columns: 16, rows: 2) == ["exactly sixteen!"])
        #expect(TextLayout.wrap("a  b", columns: 16, rows: 2) == ["a b"])
    }

    @Test func longWordsAreSplit() {
        #expect(TextLayout.wrap("ABCDEFGHIJKLMNOPQRSTUV", columns: 10, rows: 4) == ["ABCDEFGHIJ", "KLMNOPQRST", "UV"])
        #expect(TextLayout.wrap("go ABCDEFGHIJKL", columns: 10, rows: 4) == ["go", "ABCDEFGHIJ", "KL"])
    }

    @Test func newlinesAndEmptyLines() {
        #expect(TextLayout.wrap("one\ntwo", columns: 16, rows: 4) == ["one", "two"])
        #expect(TextLayout.wrap("one\n\nthree", columns: 16, rows: 4) == ["one", "", "three"])
        #expect(TextLayout.wrap("", columns: 16, rows: 2) == [""])
    }

    @Test func overflowIsMarked() {
        let lines = TextLayout.wrap("one two three four five six", columns: 9, rows: 2)
        #expect(lines == ["one two", "three>"])
        #expect(TextLayout.wrap("aaaa bbbb cccc", columns: 4, rows: 2) == ["aaaa", "bbb>"])
        #expect(lines.count == 2 && lines.allSatisfy { $0.count <= 9 })
    }

    @Test func degenerateSizes() {
        #expect(TextLayout.wrap("x", columns: 0, rows: 2).isEmpty)
        #expect(TextLayout.wrap("x", columns: 4, rows: 0).isEmpty)
    }

    @Test func fitPadsAndCuts() {
        #expect(TextLayout.fit(["abc", "toolongline"], columns: 5, rows: 3) == ["abc  ", "toolo", "     "])
        #expect(TextLayout.fit(["äö"], columns: 3, rows: 1) == ["äö "], "width counts characters, not bytes")
    }
}

@Suite("ConsoleDisplay")
struct ConsoleDisplayTests {
    @Test func framesTheScreen() throws {
        let log = Mutex<[String]>([])
        let console = try ConsoleDisplay(columns: 8, rows: 2) { line in log.locked { $0.append(line) } }
        try console.show(lines: ["Hello", "world, long", "dropped"])
        #expect(log.locked { $0 } == ["+--------+\n|Hello   |\n|world, l|\n+--------+"])
        #expect(console.columns == 8 && console.rows == 2)
    }

    @Test func rejectsEmptyGeometry() {
        #expect(throws: DisplayError.self) { _ = try ConsoleDisplay(columns: 0, rows: 2) { _ in } }
    }
}
