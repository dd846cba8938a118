import Drivers
import HAL
import Locking
import Synchronization
import Testing
@testable import EVSESimulator

/// The firmware's SSD1306 driver writing into the simulated one, write by write.
private final class Wire: I2CDevice {
    let bus = "sim"
    let address: UInt8 = 0x3C
    let oled = Mutex(SimulatedSSD1306())
    func write(_ bytes: [UInt8]) throws { oled.locked { $0.write(bytes) } }
}

@Suite("Simulated SSD1306 and the A02 LCD")
struct SimulatedDisplaysTests {
    @Test func theDriversScreenReadsBackFromTheGlass() throws {
        let wire = Wire()
        let display = try SSD1306Display(i2c: wire)
        try display.show(lines: ["Prêt", "0,25 €/kWh", "Größe ÀÇÉ"])
        let oled = wire.oled.locked { $0 }
        #expect(oled.displayOn && oled.chargePump)
        #expect(Array(oled.textRows.prefix(3)) == ["Prêt", "0,25 €/kWh", "Größe ÀÇÉ"])
        #expect(oled.textRows.dropFirst(3).allSatisfy { $0.isEmpty })
        let rows = oled.pixelRows
        #expect(rows.count == 64)
        let widths = Set(rows.map(\.count))
        #expect(widths == [128])
    }

    @Test func darkWithoutTheChargePumpMirroredWithoutTheRemaps() {
        var oled = SimulatedSSD1306()
        // Display on, page 0, one byte: the top-left pixel (column 0, bit 0).
        oled.write([0x00, 0xAF, 0xB0, 0x00, 0x10])
        oled.write([0x40, 0x01])
        #expect(oled.litCount == 0, "no charge pump, no light")
        oled.write([0x00, 0x8D, 0x14])
        #expect(oled.litCount == 1)
        #expect(oled.lit(x: 127, y: 63), "without A1/C8 the picture is turned as mounted")
        oled.write([0x00, 0xA1, 0xC8])
        #expect(oled.lit(x: 0, y: 0))
        oled.write([0x00, 0xA7])
        #expect(oled.litCount == 128 * 64 - 1, "inverted")
        oled.write([0x00, 0xAE])
        #expect(oled.litCount == 0, "display off")
    }

    @Test func horizontalAddressingWrapsIntoTheNextPage() {
        var oled = SimulatedSSD1306()
        oled.write([0x00, 0x8D, 0x14, 0xAF, 0xA1, 0xC8, 0x20, 0x00, 0x21, 126, 127, 0x22, 0, 1])
        oled.write([0x40, 0x01, 0x01, 0x01])
        #expect(oled.lit(x: 126, y: 0) && oled.lit(x: 127, y: 0))
        #expect(oled.lit(x: 126, y: 8), "the third byte went to page 1, column 126")
    }

    @Test func theA02ROMReadsTheLatin1Letters() {
        var lcd = SimulatedLCD(columns: 20, rows: 4, rom: .a02)
        let driver = try? HD44780Display(i2c: NullI2C(), config: .init(columns: 20, rows: 4, rom: .a02))
        lcd.write(driver?.initializationBytes() ?? [])
        lcd.write(driver?.screenBytes(["Café à Noël", "Größe"]) ?? [])
        #expect(lcd.lines.prefix(2) == ["Café à Noël", "Größe"])
        var a00 = SimulatedLCD(columns: 20, rows: 4, rom: .a00)
        a00.write(driver?.initializationBytes() ?? [])
        a00.write(driver?.screenBytes(["Café"]) ?? [])
        #expect(a00.lines.first == "Caf?", "the A00 ROM has no é at 0xE9")
    }
}

private final class NullI2C: I2CDevice {
    let bus = "sim"
    let address: UInt8 = 0x27
    func write(_ bytes: [UInt8]) throws {}
}
