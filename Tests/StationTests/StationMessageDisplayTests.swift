import ChargingCore
import HAL
import Testing
@testable import Station

/// A backend's display message through the station (`showMessage`, `removeMessage`): on the
/// glass at the next render, off it when removed.
@Suite("Station: backend display messages on the SSD1306")
struct StationMessageDisplayTests {
    @Test func aMessageIsShownByTheOneSchedulerAndRemoved() throws {
        let rig = try Rig(board: try StationPriceDisplayTests.oledBoard())
        try rig.station.start(at: rig.clock.now())
        let oled = try #require(rig.fake.i2cDevice(bus: "sim", address: 0x3C))
        var glass = GlassReader()
        func look() -> String {
            for _ in 0..<200 { rig.step() }
            glass.feed(oled.written)
            oled.clearWritten()
            return glass.text.joined(separator: " ")
        }
        #expect(look().contains("Ready"))
        rig.station.showMessage(DisplayMessage(id: 3, priority: .alwaysFront, text: "Closed on Monday"), at: rig.clock.now())
        #expect(look().contains("Closed on Monday"))
        #expect(rig.station.displayMessages.map(\.id) == [3])
        #expect(rig.station.removeMessage(id: 3, at: rig.clock.now()))
        #expect(!rig.station.removeMessage(id: 3, at: rig.clock.now()), "nothing to remove twice")
        let after = look()
        #expect(after.contains("Ready") && !after.contains("Closed"))
        // A message bound to a transaction that does not run is not shown.
        rig.station.showMessage(DisplayMessage(id: 4, priority: .alwaysFront, text: "Yours only", transactionId: "tx-x"),
                                at: rig.clock.now())
        #expect(!look().contains("Yours only"))
    }
}
