import Testing
@testable import ChargingCore

@Suite("Display content: message scheduler")
struct DisplayMessageSchedulerTests {
    let charging = DisplayState.charging(powerKilowatts: 7.4, energyKilowattHours: 1, elapsedSeconds: 600)

    @Test func withoutMessagesTheStationScreenShows() {
        let s = DisplayMessageScheduler(language: .en, columns: 20, rows: 4, cycleSeconds: 8)
        #expect(s.frame(at: 1_000, state: .idle, transactionId: nil) == DisplayContent.screen(for: .idle, language: .en, columns: 20, rows: 4))
    }

    @Test func normalCycleRotatesWithTheStationScreen() {
        var s = DisplayMessageScheduler(cycleSeconds: 8)
        s.set(DisplayMessage(id: 2, priority: .normalCycle, text: "Second"))
        s.set(DisplayMessage(id: 1, priority: .normalCycle, text: "First"))
        let shown = stride(from: Int64(0), to: 48, by: 4).map { s.current(at: $0, state: .idle, transactionId: nil)?.id }
        #expect(shown == [nil, nil, 1, 1, 2, 2, nil, nil, 1, 1, 2, 2])
        // The station's status line stays on top while a NormalCycle message is up.
        #expect(s.frame(at: 9, state: .idle, transactionId: nil) == ["Present your card", "First"])
    }

    @Test func inFrontMessagesPushTheNormalCycleAside() {
        var s = DisplayMessageScheduler(cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .normalCycle, text: "Normal"))
        s.set(DisplayMessage(id: 5, priority: .inFront, text: "Important"))
        let shown = stride(from: Int64(0), to: 40, by: 10).map { s.current(at: $0, state: .idle, transactionId: nil)?.id }
        #expect(shown == [nil, 5, nil, 5])
        s.clear(id: 5)
        #expect(s.current(at: 10, state: .idle, transactionId: nil)?.id == 1)
    }

    @Test func alwaysFrontWinsAndTheNewestOneShows() {
        var s = DisplayMessageScheduler(cycleSeconds: 10)
        s.set(DisplayMessage(id: 9, priority: .alwaysFront, text: "Older"))
        s.set(DisplayMessage(id: 1, priority: .inFront, text: "In front"))
        s.set(DisplayMessage(id: 3, priority: .alwaysFront, text: "Newer"))
        for t in stride(from: Int64(0), to: 100, by: 5) {
            #expect(s.current(at: t, state: .faulted(.meterFailure), transactionId: nil)?.id == 3)
        }
        s.clear(id: 3)
        #expect(s.current(at: 0, state: .idle, transactionId: nil)?.id == 9)
    }

    @Test func validityWindowIsHalfOpen() {
        var s = DisplayMessageScheduler(cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .alwaysFront, text: "Maintenance tonight", startsAt: 100, endsAt: 200))
        #expect(s.current(at: 99, state: .idle, transactionId: nil) == nil)
        #expect(s.current(at: 100, state: .idle, transactionId: nil)?.id == 1)
        #expect(s.current(at: 199, state: .idle, transactionId: nil)?.id == 1)
        #expect(s.current(at: 200, state: .idle, transactionId: nil) == nil)
        #expect(s.removeExpired(at: 150) == [])
        #expect(s.removeExpired(at: 200) == [1])
        #expect(s.messages.isEmpty)
    }

    @Test func stateFiltersLimitWhereAMessageShows() {
        var s = DisplayMessageScheduler(cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .alwaysFront, text: "Thanks for charging", states: [.charging, .suspended]))
        #expect(s.current(at: 0, state: charging, transactionId: nil)?.id == 1)
        #expect(s.current(at: 0, state: .suspended(byVehicle: true, energyKilowattHours: 1, elapsedSeconds: 1), transactionId: nil)?.id == 1)
        #expect(s.current(at: 0, state: .idle, transactionId: nil) == nil)
        #expect(s.current(at: 0, state: .faulted(.overCurrent), transactionId: nil) == nil)
    }

    @Test func transactionBoundMessagesShowOnlyDuringThatTransaction() {
        var s = DisplayMessageScheduler(cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .alwaysFront, text: "Tariff 0.39 EUR/kWh", transactionId: "TX-7"))
        #expect(s.current(at: 0, state: charging, transactionId: "TX-7")?.id == 1)
        #expect(s.current(at: 0, state: charging, transactionId: "TX-8") == nil)
        #expect(s.current(at: 0, state: charging, transactionId: nil) == nil)
    }

    @Test func sameIdReplacesAndFramesFitTheDisplay() {
        var s = DisplayMessageScheduler(language: .de, columns: 16, rows: 2, cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .alwaysFront, text: "old"))
        s.set(DisplayMessage(id: 1, priority: .alwaysFront, text: "Willkommen bei der Stadtwerke Ladestation am Markt"))
        #expect(s.messages.count == 1)
        let frame = s.frame(at: 0, state: .idle, transactionId: nil)
        #expect(frame == ["Willkommen bei", "der Stadtwerke"])
        #expect(frame.allSatisfy { $0.count <= 16 })
        s.clearAll()
        #expect(s.frame(at: 0, state: .idle, transactionId: nil) == DisplayContent.screen(for: .idle, language: .de, columns: 16, rows: 2))
    }
    /// One text per language, as separate messages: the reader sees only the one in the best
    /// language they read; untagged messages always; none matching: all rather than none.
    @Test func ofMessagesInSeveralLanguagesTheReadersBestIsShown() {
        var s = DisplayMessageScheduler(language: .en, cycleSeconds: 10)
        s.set(DisplayMessage(id: 1, priority: .inFront, text: "Closed at 22:00", language: "en"))
        s.set(DisplayMessage(id: 2, priority: .inFront, text: "Geschlossen ab 22 Uhr", language: "de-DE"))
        s.set(DisplayMessage(id: 3, priority: .inFront, text: "Fermé à 22h", language: "fr"))
        s.set(DisplayMessage(id: 4, priority: .inFront, text: "+32 2 000 00 00"))
        func cycle(_ languages: [String]) -> [Int?] {
            stride(from: Int64(0), to: 30, by: 10).map { s.current(at: $0, state: .idle, transactionId: nil, languages: languages)?.id }
        }
        // A German driver (de-CH reads de): the German text and the untagged one.
        #expect(cycle(["de-CH", "en"]) == [nil, 2, 4])
        // A driver in a language no message has: the next of their list, then the station's (en).
        #expect(cycle(["nl", "fr"]) == [nil, 3, 4])
        #expect(cycle(["es"]) == [nil, 1, 4])
        #expect(cycle([]) == [nil, 1, 4])
        // Each priority chooses on its own: an AlwaysFront only in Dutch is still shown.
        s.set(DisplayMessage(id: 9, priority: .alwaysFront, text: "Storing", language: "nl"))
        #expect(s.current(at: 0, state: .idle, transactionId: nil, languages: ["de"])?.id == 9)
        s.clear(id: 9)
        // No message in any language of the list or the station's: all of them rotate.
        var other = DisplayMessageScheduler(language: .en, cycleSeconds: 10)
        other.set(DisplayMessage(id: 1, priority: .normalCycle, text: "Cerrado", language: "es"))
        other.set(DisplayMessage(id: 2, priority: .normalCycle, text: "Chiuso", language: "it"))
        #expect(stride(from: Int64(0), to: 30, by: 10).map { other.current(at: $0, state: .idle, transactionId: nil, languages: ["de"])?.id }
                == [nil, 1, 2])
        // frame() chooses the same way.
        #expect(s.frame(at: 10, state: .idle, transactionId: nil, languages: ["fr"]) == ["Present your card", "Fermé à 22h"])
    }
}
