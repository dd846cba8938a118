import HAL
import Testing
@testable import EVSESimulator

@Suite struct WiegandEncoderTests {
    @Test func frame26CarriesThreeBytesBetweenParityBits() {
        let bits = WiegandEncoder.frame(data: [0x01, 0x02, 0x03])
        #expect(bits.count == 26)
        let data = bits[1...24].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
        #expect(data == 0x010203)
        // Even parity over the first 12 data bits (0x010: one 1) → 1; odd over the last 12 (0x203: three 1s) → 0.
        #expect(bits[0] == true)
        #expect(bits[25] == false)
    }

    @Test func frame34ForFourByteUIDs() {
        #expect(WiegandEncoder.frameBits(for: [0x04, 0xA1, 0xB2, 0xC3], format: .automatic) == 34)
        #expect(WiegandEncoder.frameBits(for: [0x04, 0xA1, 0xB2], format: .automatic) == 26)
        let bits = WiegandEncoder.frame(data: [0x04, 0xA1, 0xB2, 0xC3])
        #expect(bits.count == 34)
        let ones = bits[1...16].filter { $0 }.count + (bits[0] ? 1 : 0)
        #expect(ones % 2 == 0)
        let onesLow = bits[17...32].filter { $0 }.count + (bits[33] ? 1 : 0)
        #expect(onesLow % 2 == 1)
    }

    @Test func payloadPadsShortAndCutsLongUIDs() {
        #expect(WiegandEncoder.payload(uid: [0xAB], bits: 26) == [0, 0, 0xAB])
        #expect(WiegandEncoder.payload(uid: [1, 2, 3, 4, 5, 6, 7], bits: 34) == [1, 2, 3, 4])
    }

    @Test func pulsesAre50MicrosecondsLowTwoMillisecondsApart() {
        let start = MonotonicInstant(microseconds: 1_000_000)
        let edges = WiegandEncoder.edges(bits: [false, true], start: start)
        #expect(edges.count == 4)
        #expect(edges[0].line == "rfid.d0" && edges[0].edge == .falling && edges[0].at == start)
        #expect(edges[1].line == "rfid.d0" && edges[1].edge == .rising && edges[1].at.microseconds == 1_000_050)
        #expect(edges[2].line == "rfid.d1" && edges[2].edge == .falling && edges[2].at.microseconds == 1_002_000)
    }

    @Test func presentingACardPushesAFrameAndKeystrokes() throws {
        var w = World(config: .standard(connectors: 1), start: MonotonicInstant(microseconds: 10_000_000))
        _ = w.drainOutputs()
        let bits = try w.presentCard(uidHex: "04a1b2c3")
        #expect(bits == 34)
        let out = w.drainOutputs()
        let edges = out.filter { if case .edge = $0 { return true } else { return false } }
        #expect(edges.count == 68)
        let keys = out.compactMap { if case let .key(_, code, pressed, _) = $0, pressed { return code } else { return nil } }
        #expect(keys == [11, 5, 30, 2, 48, 3, 46, 4, 28])  // 0 4 A 1 B 2 C 3 ENTER
    }
}

/// Writes what a PCF8574 HD44780 driver writes: each nibble with EN high, then EN low.
struct PCF8574Writer {
    var bytes: [UInt8] = []
    mutating func nibble(_ n: UInt8, rs: Bool) {
        let port = n << 4 | 0x08 | (rs ? 1 : 0)
        bytes += [port | 0x04, port]
    }
    mutating func byte(_ b: UInt8, rs: Bool = false) {
        nibble(b >> 4, rs: rs)
        nibble(b & 0x0F, rs: rs)
    }
    mutating func initialise() {
        nibble(0x3, rs: false); nibble(0x3, rs: false); nibble(0x3, rs: false); nibble(0x2, rs: false)
        byte(0x28); byte(0x0C); byte(0x06); byte(0x01)
    }
    mutating func text(_ s: String) { for c in s.utf8 { byte(c, rs: true) } }
}

@Suite struct SimulatedLCDTests {
    @Test func decodesInitialisationTextAndRowAddresses() {
        var lcd = SimulatedLCD(columns: 20, rows: 4)
        var w = PCF8574Writer()
        w.initialise()
        w.text("Charging")
        w.byte(0x80 | 0x40); w.text("11.0 kW 1.23 kWh")
        w.byte(0x80 | 0x14); w.text("row three")
        w.byte(0x80 | 0x54); w.text("row four")
        lcd.write(w.bytes)
        #expect(lcd.lines == ["Charging", "11.0 kW 1.23 kWh", "row three", "row four"])
        #expect(lcd.displayOn)
        #expect(lcd.backlight)
        #expect(lcd.rowsText[0].count == 20)
    }

    @Test func clearAndHome() {
        var lcd = SimulatedLCD()
        var w = PCF8574Writer()
        w.initialise()
        w.text("Hello")
        w.byte(0x02)           // home
        w.text("J")
        lcd.write(w.bytes)
        #expect(lcd.lines[0] == "Jello")
        var w2 = PCF8574Writer()
        w2.byte(0x01)
        w2.text("Bye")
        lcd.write(w2.bytes)
        #expect(lcd.lines == ["Bye", "", "", ""])
    }

    @Test func firmwareRestartMidByteResynchronises() {
        var lcd = SimulatedLCD()
        var w = PCF8574Writer()
        w.initialise()
        w.text("old")
        w.nibble(0x4, rs: true)  // killed after half a byte
        var again = PCF8574Writer()
        again.initialise()
        again.text("new")
        lcd.write(w.bytes + again.bytes)
        #expect(lcd.lines[0] == "new")
    }

    @Test func textWrittenWhileENStaysLowIsIgnored() {
        var lcd = SimulatedLCD()
        var w = PCF8574Writer()
        w.initialise()
        lcd.write(w.bytes + [0x49, 0x19, 0x49])
        #expect(lcd.lines[0] == "")
    }
}
