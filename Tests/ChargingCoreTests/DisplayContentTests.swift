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

@Suite("Display content: text handling")
struct DisplayContentTextTests {
    @Test func lineBreaksAreKeptAndControlCharactersDropped() {
        #expect(DisplayContent.wrap("Line one\nLine\ttwo\u{7}x", columns: 20) == ["Line one", "Line two x"])
        #expect(DisplayContent.wrap("a\r\nb", columns: 5) == ["a", "b"])
    }
}
