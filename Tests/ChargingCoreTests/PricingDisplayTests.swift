import Testing
@testable import ChargingCore

@Suite("Money, price texts and the price lines of the screens")
struct PricingDisplayTests {
    @Test func moneyParsesDecimalTextExactlyAndRefusesWhatItCannotHold() {
        #expect(Money(decimalText: "1.23", decimals: 2) == Money(minorUnits: 123, decimals: 2))
        #expect(Money(decimalText: "0.123", decimals: 5)?.minorUnits == 12_300)
        #expect(Money(decimalText: "12", decimals: 2)?.minorUnits == 1_200)
        #expect(Money(decimalText: "-1.5", decimals: 2)?.minorUnits == -150)
        #expect(Money(decimalText: "1.230", decimals: 2)?.minorUnits == 123, "trailing zeros are no extra precision")
        #expect(Money(decimalText: "1.235", decimals: 2) == nil, "no silent rounding of a backend's figure")
        #expect(Money(decimalText: "1e3", decimals: 2) == nil)
        #expect(Money(decimalText: "1.", decimals: 2) == nil)
        #expect(Money(decimalText: "", decimals: 2) == nil)
        #expect(Money(decimalText: "99999999999999999999", decimals: 2) == nil)
    }

    @Test func aTenthOfACentAddedAThousandTimesIsExactlyOneDollar() {
        // The float sum 0.001 × 1000 is 1.0000000000000007; integers are not.
        var total = Money.zero(decimals: 3)
        let step = Money(0.001, decimals: 3)
        for _ in 0..<1_000 { total = total + (step ?? .zero(decimals: 3)) }
        #expect(total == Money(minorUnits: 1_000, decimals: 3))
        #expect(total.formatted() == "1.000")
        #expect(Money(0.1 + 0.2, decimals: 2)?.minorUnits == 30)
    }

    @Test func pricesTimesUnitsRoundOnceHalfAwayFromZero() {
        let kWh = Money(minorUnits: 123_000, decimals: 6)  // 0.123 per kWh
        #expect(kWh.times(10_000, per: 1_000, decimals: 2) == Money(minorUnits: 123, decimals: 2), "10 kWh = 1.23")
        #expect(kWh.times(4_065, per: 1_000, decimals: 2).minorUnits == 50, "0.4999995 rounds to 0.50")
        #expect(kWh.times(40, per: 1_000, decimals: 2).minorUnits == 0)
        let hour = Money(minorUnits: 100, decimals: 2)  // 1.00 per hour
        #expect(hour.times(1_800, per: 3_600, decimals: 2).minorUnits == 50)
        #expect(hour.times(-1_800, per: 3_600, decimals: 2).minorUnits == -50)
        #expect(Money(minorUnits: 1_005, decimals: 3).rounded(toDecimals: 2).minorUnits == 101)
        #expect(Money(minorUnits: -1_005, decimals: 3).rounded(toDecimals: 2).minorUnits == -101)
        let huge = Money(minorUnits: 1_000_000_000, decimals: 6)
        #expect(huge.times(1_000_000_000, per: 1_000, decimals: 2).minorUnits == 100_000_000_000, "no overflow in the product")
    }

    @Test func moneyIsWrittenWithTheLanguagesSeparator() {
        let m = Money(minorUnits: 331, decimals: 2)
        #expect(m.formatted(decimalSeparator: DisplayLanguage.en.decimalSeparator) == "3.31")
        #expect(m.formatted(decimalSeparator: DisplayLanguage.de.decimalSeparator) == "3,31")
        #expect(Money(minorUnits: 5, decimals: 2).formatted() == "0.05")
        #expect(Money(minorUnits: -5, decimals: 2).formatted() == "-0.05")
        #expect(Money(minorUnits: 7, decimals: 0).formatted() == "7")
    }

    @Test func localizedTextPicksTheDriversThenTheStationsLanguageThenTheUntaggedText() {
        let t = LocalizedText("$0.12/kWh", translations: ["nl": "€0,12/kWh", "de-DE": "0,12 €/kWh", "FR": "0,12 €/kWh fr"])
        #expect(t.text(preferring: ["nl", "en"]) == "€0,12/kWh")
        #expect(t.text(preferring: ["de-DE"]) == "0,12 €/kWh")
        #expect(t.text(preferring: ["de"]) == "0,12 €/kWh", "a primary tag takes a regional text")
        #expect(t.text(preferring: ["de-AT"]) == "0,12 €/kWh")
        #expect(t.text(preferring: ["fr"]) == "0,12 €/kWh fr", "tags are case-insensitive")
        #expect(t.text(preferring: ["it", "nl"]) == "€0,12/kWh", "the driver's language missing: the station's")
        #expect(t.text(preferring: ["it"]) == "$0.12/kWh")
        #expect(t.text(preferring: []) == "$0.12/kWh")
        #expect(DisplayLanguage(tag: "nl-BE") == .nl)
        #expect(DisplayLanguage(tag: "DE") == .de)
        #expect(DisplayLanguage(tag: "it") == nil)
    }

    @Test func runningCostIsCarriedForwardByEnergyTimeAndIdlePrice() {
        var cost = RunningCost(sessionId: "s", cost: Money(minorUnits: 100, decimals: 2), atUnixSeconds: 1_000, meterWh: 10_000,
                               phase: .charging,
                               chargingPrice: ChargingPrice(perKilowattHour: Money(minorUnits: 250_000, decimals: 6),
                                                            perHour: Money(minorUnits: 1_000_000, decimals: 6)),
                               idlePrice: IdlePrice(graceMinutes: 30, perHour: Money(minorUnits: 2_000_000, decimals: 6)))
        #expect(cost.estimate(atUnixSeconds: 1_000, meterWh: 10_000).minorUnits == 100, "at its reading: the backend's figure")
        // 4 kWh at 0.25 = 1.00, 0.5 h at 1.00 = 0.50.
        #expect(cost.estimate(atUnixSeconds: 2_800, meterWh: 14_000).minorUnits == 250)
        #expect(cost.estimate(atUnixSeconds: 900, meterWh: 9_000).minorUnits == 100, "a reading behind the backend's adds nothing")
        cost.phase = .idle
        #expect(cost.estimate(atUnixSeconds: 1_000 + 30 * 60, meterWh: 10_000).minorUnits == 100, "inside the grace period")
        #expect(cost.estimate(atUnixSeconds: 1_000 + 90 * 60, meterWh: 10_000).minorUnits == 300, "one idle hour at 2.00")
        cost.phase = .charging
        cost.chargingPrice.perHour = nil
        cost.nextPeriod = PricePeriod(atUnixSeconds: 2_000, chargingPrice: ChargingPrice(perKilowattHour: Money(minorUnits: 500_000, decimals: 6)))
        // 1000 s at 0.25 and 1000 s at 0.50, 2 kWh each half: 0.50 + 1.00.
        #expect(cost.estimate(atUnixSeconds: 3_000, meterWh: 14_000).minorUnits == 250)
    }

    @Test func theStationScreensCarryThePriceOrTheCost() {
        let idle = DisplayContent.screen(for: .idle, language: .en, columns: 20, rows: 4,
                                         price: .price("0.25 $/kWh"), at: 0)
        #expect(idle == ["Ready", "Present your card", "0.25 $/kWh"])
        let charging = DisplayContent.screen(for: .charging(powerKilowatts: 7.4, energyKilowattHours: 4, elapsedSeconds: 600),
                                             language: .de, columns: 20, rows: 4,
                                             price: .runningCost(Money(minorUnits: 123, decimals: 2)), at: 0)
        #expect(charging.contains { $0.contains("Kosten 1,23") }, "\(charging)")
        #expect(charging.contains { $0.contains("7,4 kW") })
        let finished = DisplayContent.screen(for: .finished(energyKilowattHours: 23.4, durationSeconds: 7_322), language: .nl,
                                             columns: 20, rows: 4, price: .finalCost(Money(minorUnits: 331, decimals: 2), text: "Bedankt"), at: 0)
        #expect(finished == ["Laden voltooid", "Totaal 3,31", "Bedankt"])
    }

    @Test func aLongTextIsPagedUnderTheStatusRowsAtAReadablePace() {
        let text = "$2.81 @ $0.12/kWh, $0.50 @ $1/h, TOTAL KWH: 23.4 TIME: 03.50 COST: $3.31. Visit www.cpo.com/invoices/13546"
        let state = DisplayState.finished(energyKilowattHours: 23.4, durationSeconds: 7_322)
        let price = PriceLine.finalCost(Money(minorUnits: 331, decimals: 2), text: text)
        var pages: [[String]] = []
        for t in stride(from: Int64(0), to: 40, by: Int(DisplayContent.pageSeconds)) {
            let lines = DisplayContent.screen(for: state, language: .en, columns: 20, rows: 4, price: price, at: t)
            #expect(lines.count <= 4)
            #expect(Array(lines.prefix(2)) == ["Charging finished", "Total 3.31"], "the status rows stay: \(lines)")
            #expect(lines.allSatisfy { $0.count <= 20 })
            pages.append(Array(lines.dropFirst(2)))
        }
        let wrapped = DisplayContent.wrap(text, columns: 20)
        let firstCycle = Array(pages.prefix((wrapped.count + 1) / 2)).flatMap { $0 }
        #expect(firstCycle == wrapped, "every line shown once per cycle, in order")
        #expect(DisplayContent.screen(for: state, language: .en, columns: 20, rows: 4, price: price, at: 1)
            == DisplayContent.screen(for: state, language: .en, columns: 20, rows: 4, price: price, at: 3), "a page stays 4 s")
    }

    @Test func aLongNormalCycleMessageKeepsTheStatusLineAlwaysFrontTakesTheScreen() {
        var scheduler = DisplayMessageScheduler(language: .en, columns: 20, rows: 4, cycleSeconds: 8)
        let long = String(repeating: "Maintenance tonight from 22:00 to 23:00. ", count: 3)
        scheduler.set(DisplayMessage(id: 1, priority: .inFront, text: long))
        let state = DisplayState.charging(powerKilowatts: 11, energyKilowattHours: 2, elapsedSeconds: 60)
        let frame = scheduler.frame(at: 8, state: state, transactionId: nil)
        #expect(frame.first?.contains("kW") == true, "the status line (kW, kWh) stays on top: \(frame)")
        #expect(frame.count == 4)
        let next = scheduler.frame(at: 12, state: state, transactionId: nil)
        #expect(next.first == frame.first)
        #expect(next != frame, "the message moved on to its next page")
        scheduler.set(DisplayMessage(id: 2, priority: .alwaysFront, text: long))
        let front = scheduler.frame(at: 8, state: state, transactionId: nil)
        #expect(front.first?.hasPrefix("Maintenance") == true, "\(front)")
    }

    @Test func theDriversLanguageOverridesTheStationsOnTheStationScreen() {
        let scheduler = DisplayMessageScheduler(language: .en, columns: 20, rows: 4)
        #expect(scheduler.frame(at: 0, state: .plugInCable, transactionId: nil, language: .fr).contains("Branchez le câble"))
        #expect(scheduler.frame(at: 0, state: .plugInCable, transactionId: nil).contains("Plug in the cable"))
    }
}

@Suite("Screen words: one row per language")
struct ScreenWordsTests {
    @Test func everyLanguageHasItsRow() {
        for language in DisplayLanguage.allCases {
            #expect(ScreenWords.table[language] != nil, "\(language) has no row in ScreenWords.table")
        }
        #expect(ScreenWords.of(.fr).plugInTheCable == "Branchez le câble")
        #expect(ScreenWords.of(.de).decimalSeparator == ",")
    }
}
