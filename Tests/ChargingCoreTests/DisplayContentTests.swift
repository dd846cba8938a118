import Testing
@testable import ChargingCore

private let everyState: [DisplayState] = [
    .idle, .reserved, .authorizing, .authorizationRejected, .plugInCable,
    .charging(powerKilowatts: 11.04, energyKilowattHours: 12.345, elapsedSeconds: 3_912),
    .charging(powerKilowatts: 0, energyKilowattHours: 0, elapsedSeconds: 0),
    .charging(powerKilowatts: 350.5, energyKilowattHours: 1_234.5, elapsedSeconds: 100 * 3_600),
    .suspended(byVehicle: true, energyKilowattHours: 5, elapsedSeconds: 60),
    .suspended(byVehicle: false, energyKilowattHours: 5, elapsedSeconds: 60),
    .finished(energyKilowattHours: 23.4, durationSeconds: 7_322),
    .unavailable,
] + DisplayFault.allCases.map { DisplayState.faulted($0) }

@Suite("Display content: screens per state and language")
struct DisplayContentTests {
    @Test(arguments: [(16, 2), (20, 4), (40, 8), (8, 2), (12, 1), (128, 16)])
    func everyScreenFitsTheDisplay(columns: Int, rows: Int) {
        for state in everyState {
            for language in DisplayLanguage.allCases {
                let lines = DisplayContent.screen(for: state, language: language, columns: columns, rows: rows)
                #expect(!lines.isEmpty, "\(state) \(language) \(columns)x\(rows) is blank")
                #expect(lines.count <= rows, "\(state) \(language): \(lines)")
                for line in lines {
                    #expect(line.count <= columns, "\(state) \(language) \(columns)x\(rows): \"\(line)\"")
                    #expect(!line.isEmpty)
                }
            }
        }
    }

    @Test func chargingShowsPowerEnergyAndTime() {
        let state = DisplayState.charging(powerKilowatts: 11.04, energyKilowattHours: 12.346, elapsedSeconds: 3_912)
        #expect(DisplayContent.screen(for: state, language: .en, columns: 20, rows: 4) == ["Charging 11.0 kW", "12.35 kWh 1:05:12"])
        #expect(DisplayContent.screen(for: state, language: .de, columns: 20, rows: 4) == ["Lädt 11,0 kW", "12,35 kWh 1:05:12"])
        #expect(DisplayContent.screen(for: state, language: .fr, columns: 20, rows: 4) == ["En charge 11,0 kW", "12,35 kWh 1:05:12"])
        #expect(DisplayContent.screen(for: state, language: .nl, columns: 20, rows: 4) == ["Laden 11,0 kW", "12,35 kWh 1:05:12"])
        // 16x2: the elapsed time gives way before energy and power.
        #expect(DisplayContent.screen(for: state, language: .en, columns: 16, rows: 2) == ["Charging 11.0 kW", "12.35 kWh"])
        // One row: the figures that matter most.
        #expect(DisplayContent.screen(for: state, language: .en, columns: 20, rows: 1) == ["11.0 kW 12.35 kWh"])
    }

    @Test func idleAsksForTheCardInEveryLanguage() {
        let expected: [DisplayLanguage: String] = [.en: "Present your card", .de: "Karte vorhalten",
                                                   .fr: "Présentez votre badge", .nl: "Houd uw pas voor de lezer"]
        for (language, text) in expected {
            let lines = DisplayContent.screen(for: .idle, language: language, columns: 40, rows: 4)
            #expect(lines.contains(text), "\(language): \(lines)")
        }
        #expect(DisplayContent.screen(for: .idle, language: .en, columns: 20, rows: 4) == ["Ready", "Present your card", "to start charging"])
        #expect(DisplayContent.screen(for: .idle, language: .en, columns: 16, rows: 2) == ["Present your", "card"])
    }

    @Test func finishedShowsEnergyAndDuration() {
        let lines = DisplayContent.screen(for: .finished(energyKilowattHours: 23.4, durationSeconds: 7_322), language: .en, columns: 20, rows: 4)
        #expect(lines == ["Charging finished", "23.40 kWh 2:02:02", "Unplug the cable"])
    }

    @Test func everyFaultHasItsOwnWordsInEveryLanguage() {
        for language in DisplayLanguage.allCases {
            let texts = DisplayFault.allCases.map { DisplayContent.screen(for: .faulted($0), language: language, columns: 40, rows: 4) }
            #expect(Set(texts).count == DisplayFault.allCases.count, "\(language): two faults read the same")
        }
        #expect(DisplayContent.screen(for: .faulted(.groundFailure), language: .de, columns: 40, rows: 4)
            == ["Störung", "Fehlerstrom (FI ausgelöst)", "Service anrufen"])
        #expect(DisplayContent.screen(for: .faulted(.emergencyStop), language: .fr, columns: 40, rows: 4)
            == ["Défaut", "Arrêt d'urgence activé", "Appelez le service"])
        #expect(DisplayContent.screen(for: .faulted(.contactorWelded), language: .nl, columns: 40, rows: 4)
            == ["Storing", "Schakelaar vastgelast", "Bel de service"])
    }

    @Test func languagesDiffer() {
        for state in everyState {
            let screens = DisplayLanguage.allCases.map { DisplayContent.screen(for: state, language: $0, columns: 40, rows: 8) }
            #expect(Set(screens).count == DisplayLanguage.allCases.count, "\(state) reads the same in two languages")
        }
    }

    @Test func wrappingSplitsWordsLongerThanALine() {
        #expect(DisplayContent.wrap("Kabelverriegelung defekt", columns: 8) == ["Kabelver", "riegelun", "g defekt"])
        #expect(DisplayContent.wrap("  a  b ", columns: 3) == ["a b"])
        #expect(DisplayContent.screen(for: .idle, language: .en, columns: 0, rows: 2) == [])
    }

    @Test func numbersAreFormattedForTheLanguage() {
        #expect(DisplayContent.decimal(7.25, places: 1, language: .en) == "7.3")
        #expect(DisplayContent.decimal(0.049, places: 2, language: .de) == "0,05")
        #expect(DisplayContent.decimal(.nan, places: 2, language: .en) == "0.00")
        #expect(DisplayContent.duration(59) == "0:00:59")
        #expect(DisplayContent.duration(36_000) == "10:00:00")
    }
}

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
        #expect(s.frame(at: 9, state: .idle, transactionId: nil) == ["First"])
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
}
