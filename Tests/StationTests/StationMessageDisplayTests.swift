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
        var watcher = try GlassWatcher(rig)
        func look() -> String { watcher.look().joined(separator: " ") }
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

    /// A transaction that began at the plug-in (2.0.1's TxStartPoint EVConnected) carries the
    /// prelude's id before any card: its message is shown from then on, not from the card on.
    @Test func aMessageOfATransactionBegunAtThePlugInIsShownBeforeTheCard() throws {
        let rig = try Rig(board: try StationPriceDisplayTests.oledBoard())
        try rig.station.start(at: rig.clock.now())
        rig.station.readMetersNow(at: rig.clock.now())
        var watcher = try GlassWatcher(rig)
        func look() -> String { watcher.look().joined(separator: " ") }
        rig.plug(1)
        #expect(rig.step(until: { StationPreludeTests.prelude(rig) != nil }) != nil)
        let prelude = try #require(StationPreludeTests.prelude(rig))
        #expect(rig.view(1)?.session == nil)
        rig.station.showMessage(DisplayMessage(id: 5, priority: .alwaysFront, text: "Tap your card", transactionId: prelude.id),
                                at: rig.clock.now())
        rig.station.showMessage(DisplayMessage(id: 6, priority: .alwaysFront, text: "Not yours", transactionId: "tx-other"),
                                at: rig.clock.now())
        let shown = look()
        #expect(shown.contains("Tap your card"))
        #expect(!shown.contains("Not yours"))
    }
}
