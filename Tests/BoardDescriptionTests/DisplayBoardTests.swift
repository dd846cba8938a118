import Testing
import Drivers
@testable import BoardDescription

/// The display settings of a board file: the SSD1306 OLED and the HD44780's character ROM.
@Suite("Board file: station.display")
struct DisplayBoardTests {
    let base = BoardLoaderErrorTests()

    @Test func anSSD1306OnTheSimulatedBus() throws {
        let text = try base.edit(BoardLoaderErrorTests.simBoard, "hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}",
                                 "ssd1306: {i2c: sim, address: 0x3C}")
        let board = try base.load(text)
        #expect(board.station.display == .ssd1306(bus: "sim", address: 0x3C))
    }

    @Test func anSSD1306OnLinuxTakesABusNumber() throws {
        let text = try base.edit(BoardLoaderErrorTests.simBoard, "hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}",
                                 "ssd1306: {i2c: 1, address: 0x3D}")
        #expect(try base.load(text).station.display == .ssd1306(bus: "/dev/i2c-1", address: 0x3D))
    }

    @Test func anSSD1306AddressItDoesNotAnswerAtNamesTheLine() throws {
        let text = try base.edit(BoardLoaderErrorTests.simBoard, "hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}",
                                 "ssd1306: {i2c: sim, address: 0x27}")
        base.expectError(text, field: "station.display.ssd1306.address", line: try base.line(of: "ssd1306", in: text), "0x3C or 0x3D")
    }

    @Test func anSSD1306WithAnUnknownSettingNamesIt() throws {
        let text = try base.edit(BoardLoaderErrorTests.simBoard, "hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}",
                                 "ssd1306: {i2c: sim, address: 0x3C, columns: 21}")
        base.expectError(text, field: "station.display.ssd1306.columns", line: try base.line(of: "ssd1306", in: text), "unknown key")
    }

    @Test func theHD44780sCharacterROM() throws {
        let a02 = try base.edit(BoardLoaderErrorTests.simBoard, "columns: 20, rows: 4}", "columns: 20, rows: 4, rom: A02}")
        #expect(try base.load(a02).station.display == .hd44780(bus: "sim", address: 0x27, columns: 20, rows: 4, rom: .a02))
        #expect(try base.load(BoardLoaderErrorTests.simBoard).station.display == .hd44780(bus: "sim", address: 0x27, columns: 20, rows: 4, rom: .a00),
                "A00 when not said: the ROM of nearly every cheap module")
        let bad = try base.edit(BoardLoaderErrorTests.simBoard, "columns: 20, rows: 4}", "columns: 20, rows: 4, rom: A01}")
        base.expectError(bad, field: "station.display.hd44780.rom", line: try base.line(of: "hd44780", in: bad), "A00 (Japanese) or A02 (European)")
    }
}
