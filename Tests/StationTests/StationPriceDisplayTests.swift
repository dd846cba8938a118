import BoardDescription
import ConfigFile
import ChargingCore
import Drivers
import HAL
import HALFake
import StationPort
import Testing
@testable import Station

/// Reads the SSD1306 glass back from the bytes the station wrote to the fake I2C device: the
/// page writes (`00 B0+p 00 10`, then `40` and 128 bytes) into a frame buffer, and each 6×8
/// cell matched against the font.
struct GlassReader {
    var frame = [UInt8](repeating: 0, count: 1024)

    mutating func feed(_ stream: [UInt8]) {
        var i = 0
        let initialisation = [UInt8(0x00)] + SSD1306Display.initializationCommands
        var page = 0
        while i < stream.count {
            if Array(stream[i..<min(stream.count, i + initialisation.count)]) == initialisation {
                i += initialisation.count
            } else if stream[i] == 0x00, i + 3 < stream.count, stream[i + 1] & 0xF8 == 0xB0 {
                page = Int(stream[i + 1] & 0x07)
                i += 4
            } else if stream[i] == 0x40, i + 128 < stream.count {
                for c in 0..<128 { frame[page * 128 + c] = stream[i + 1 + c] }
                i += 129
            } else {
                i += 1
            }
        }
    }

    var text: [String] {
        var lookup: [[UInt8]: Character] = [[0, 0, 0, 0, 0, 0]: " "]
        for (scalar, glyph) in DisplayFont.glyphs.sorted(by: { $0.key > $1.key }) {
            if let s = Unicode.Scalar(scalar) { lookup[glyph + [0]] = Character(s) }
        }
        return (0..<8).map { row in
            var line = String((0..<21).map { cell in lookup[Array(frame[(row * 128 + cell * 6)..<(row * 128 + cell * 6 + 6)])] ?? "▒" })
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// Lit pixels in the right half (where a QR code goes).
    var litOnTheRight: Int {
        (0..<8).reduce(0) { sum, page in sum + (64..<128).reduce(0) { $0 + frame[page * 128 + $1].nonzeroBitCount } }
    }
}

/// A started station on the OLED board (`StationPriceDisplayTests.oledBoard`), stepped and read
/// back from its glass.
struct GlassWatcher {
    let rig: Rig
    let oled: FakeI2CDevice
    var glass = GlassReader()

    init(_ rig: Rig) throws {
        self.rig = rig
        oled = try #require(rig.fake.i2cDevice(bus: "sim", address: 0x3C))
    }

    /// The glass's lines after 200 more loop steps.
    mutating func look() -> [String] {
        for _ in 0..<200 { rig.step() }
        glass.feed(oled.written)
        oled.clearWritten()
        return glass.text
    }
}

@Suite("Station: prices and costs on the SSD1306")
struct StationPriceDisplayTests {
    static func oledBoard() throws -> BoardDescription {
        let text = try TextFile.read(Repo.simBoard)
            .replacing("hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}", with: "ssd1306: {i2c: sim, address: 0x3C}", maxReplacements: 1)
        #expect(text.contains("ssd1306"))
        return try BoardLoader.parse(text, file: "oled.yaml", metersDirectory: Repo.root + "/Board/meters")
    }

    @Test func idleIdentifiedChargingFinishedInTheDriversLanguage() throws {
        let rig = try Rig(board: try Self.oledBoard())
        try rig.station.start(at: rig.clock.now())
        var watcher = try GlassWatcher(rig)
        func look() -> String { watcher.look().joined(separator: "\n") }
        let now = { rig.clock.now() }

        rig.station.showPrice(.defaultPrice(LocalizedText("0.25 EUR/kWh", translations: ["de": "0,25 EUR/kWh"]), offline: nil), at: now())
        var shown = look()
        #expect(shown.contains("Ready") && shown.contains("0.25 EUR/kWh"), "\(shown)")
        rig.station.showPrice(.stationLanguage("de-DE"), at: now())
        shown = look()
        #expect(shown.contains("Bereit") && shown.contains("0,25 EUR/kWh"), "\(shown)")
        rig.station.showPrice(.stationLanguage(""), at: now())
        #expect(look().contains("Ready"), "an empty Language: the station file's")
        rig.station.showPrice(.stationLanguage("de"), at: now())

        // The driver identifies; their price and language (French) replace the station's.
        rig.station.showPrice(.driverPrice(idToken: "A1B2C3", LocalizedText("0.20/kWh", translations: ["fr": "0,20 €/kWh pour vous"]),
                                           language: "fr"), at: now())
        rig.station.presentCard(IdToken("A1B2C3"), at: now())
        shown = look()
        #expect(shown.contains("Badge accepté") && shown.contains("0,20 €/kWh pour vous"), "\(shown)")

        #expect(rig.startCharging(1))
        let session = try #require(rig.view(1)?.session)
        var cost = RunningCost(sessionId: session.id, cost: Money(minorUnits: 123, decimals: 2), atUnixSeconds: 0, meterWh: 0,
                               phase: .charging, chargingPrice: ChargingPrice())
        cost.phase = .charging
        rig.station.showPrice(.runningCost(cost), at: now())
        shown = look()
        #expect(shown.contains("Coût 1,23"), "\(shown)")

        #expect(rig.station.stopSession(connector: 1, sessionId: session.id, reason: .remote, at: now()))
        rig.setEV(1, .b)
        #expect(rig.step(until: { rig.view(1)?.session == nil }) != nil)
        rig.station.showPrice(.finalCost(FinalCost(sessionId: session.id, cost: Money(minorUnits: 331, decimals: 2),
                                                   text: LocalizedText("Thanks", translations: ["fr": "Merci"]),
                                                   qrCodeText: "https://cpo.example/r/1")), at: now())
        shown = look()
        #expect(shown.contains("Total") && shown.contains("3,31") && shown.contains("Merci"), "\(shown)")
        #expect(watcher.glass.litOnTheRight > 400, "a QR code on the right half")
        #expect(watcher.glass.text.allSatisfy { $0.dropFirst(10).allSatisfy { $0 == "▒" || $0 == " " } },
                "the text stays left of the QR code: \(watcher.glass.text)")
    }
}

