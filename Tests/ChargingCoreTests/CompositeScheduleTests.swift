import TestSupport
import Testing
@testable import ChargingCore

/// 2026-01-01 00:00:00 UTC, a Thursday.
private let t0: Int64 = 1_767_225_600
private let hour: Int64 = 3_600
private let day: Int64 = 86_400

private func profile(_ id: Int, level: Int = 0, purpose: ChargingProfilePurpose = .txDefaultProfile,
                     kind: ChargingProfileKind = .absolute, unit: ChargingRateUnit = .amps,
                     _ periods: [(Int, Double)], phases: Int? = nil, duration: Int? = nil, start: Int64? = t0,
                     validFrom: Int64? = nil, validTo: Int64? = nil, transactionId: String? = nil) -> ChargingProfile {
    ChargingProfile(id: id, stackLevel: level, purpose: purpose, kind: kind, validFrom: validFrom, validTo: validTo,
                    transactionId: transactionId,
                    schedule: ChargingSchedule(unit: unit,
                                               periods: periods.map { ChargingSchedulePeriod(startPeriod: $0.0, limit: $0.1, numberPhases: phases) },
                                               duration: duration, startSchedule: kind == .relative ? nil : start))
}

private func calculator(_ items: [(Int, ChargingProfile)]) throws -> CompositeScheduleCalculator {
    var c = CompositeScheduleCalculator()
    for (connector, p) in items { c.install(try InstalledChargingProfile(connectorId: connector, profile: p)) }
    return c
}

private func limits(_ s: CompositeSchedule) -> [Int: Double?] {
    Dictionary(uniqueKeysWithValues: s.periods.map { ($0.startPeriod, $0.limit) })
}

private func pairs(_ s: CompositeSchedule) -> [String] {
    s.periods.map { "\($0.startPeriod):\($0.limit.map { String($0) } ?? "-")" }
}

@Suite("Charging profiles: validation and installation")
struct ChargingProfileTests {
    @Test func rejectsMalformedProfilesWithTheReason() {
        func error(_ p: ChargingProfile, connector: Int = 1) -> ChargingProfileError? {
            do { try p.validate(connectorId: connector); return nil } catch { return error }
        }
        #expect(error(profile(1, [])) == .noPeriods(profileId: 1))
        #expect(error(profile(1, [(60, 16)])) == .firstPeriodNotAtZero(profileId: 1, startPeriod: 60))
        #expect(error(profile(1, [(0, 16), (0, 10)])) == .periodsNotAscending(profileId: 1, index: 1))
        #expect(error(profile(1, [(0, -1)])) == .invalidLimit(profileId: 1, index: 0, limit: -1))
        #expect(error(profile(1, [(0, 16)], phases: 4)) == .invalidNumberPhases(profileId: 1, index: 0, numberPhases: 4))
        #expect(error(profile(1, purpose: .chargingStationMaxProfile, [(0, 16)])) == .stationMaxOnConnector(profileId: 1, connectorId: 1))
        #expect(error(profile(1, purpose: .txProfile, [(0, 16)]), connector: 0) == .txProfileOnStation(profileId: 1))
        #expect(error(profile(1, [(0, 16)], start: nil)) == .missingStartSchedule(profileId: 1))
        #expect(error(profile(1, level: -1, [(0, 16)])) == .negativeStackLevel(profileId: 1, stackLevel: -1))
        #expect(error(profile(1, [(0, 16)], duration: 0)) == .invalidDuration(profileId: 1, duration: 0))
        #expect(error(profile(1, [(0, 16)], validFrom: t0, validTo: t0)) == .validityEmpty(profileId: 1, validFrom: t0, validTo: t0))
        #expect(error(profile(1, [(0, 16)], transactionId: "T1")) == .transactionIdOutsideTxProfile(profileId: 1))
        var relative = profile(1, kind: .relative, [(0, 16)])
        relative.schedule.startSchedule = t0
        #expect(error(relative) == .startScheduleOnRelative(profileId: 1))
        #expect(error(profile(1, [(0, 16), (60, 10)])) == nil)
        #expect(ChargingProfileError.noPeriods(profileId: 7).description.contains("7"))
    }

    @Test func installReplacesSameIdAndSameStackSlot() throws {
        var c = try calculator([(1, profile(1, level: 0, [(0, 32)])), (1, profile(2, level: 1, [(0, 16)]))])
        // Same id: replaced.
        #expect(c.install(try InstalledChargingProfile(connectorId: 1, profile: profile(1, level: 2, [(0, 20)]))) == [1])
        // Same connector, purpose and stack level as profile 2: replaced.
        #expect(c.install(try InstalledChargingProfile(connectorId: 1, profile: profile(3, level: 1, [(0, 10)]))) == [2])
        #expect(Set(c.profiles.map(\.profile.id)) == [1, 3])
        #expect(c.clear(purpose: .txDefaultProfile, stackLevel: 2) == [1])
        #expect(c.clear(id: 99) == [])
        #expect(c.profiles.map(\.profile.id) == [3])
    }
}

@Suite("Charging profiles: composite schedule")
struct CompositeScheduleTests {
    @Test func higherStackLevelWinsWhileItsScheduleRuns() throws {
        let c = try calculator([(1, profile(1, level: 0, [(0, 32)])),
                                (1, profile(2, level: 1, [(0, 16)], duration: 3_600))])
        let s = c.compositeSchedule(connectorId: 1, start: t0, duration: 7_200)
        #expect(pairs(s) == ["0:16.0", "3600:32.0"])
        #expect(s.unit == .amps && s.scheduleStart == t0 && s.duration == 7_200)
        #expect(s.periods.first?.numberPhases == 3)
    }

    @Test func validityWindowBoundsAProfile() throws {
        let c = try calculator([(1, profile(1, level: 0, [(0, 32)])),
                                (1, profile(2, level: 5, [(0, 10)], validFrom: t0 + 600, validTo: t0 + 1_200))])
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 3_600)) == ["0:32.0", "600:10.0", "1200:32.0"])
    }

    @Test func periodsWithinAScheduleAndNoLimitBeforeItStarts() throws {
        let c = try calculator([(1, profile(1, [(0, 16), (900, 8), (1_800, 24)], start: t0 + 300))])
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 3_600)) == ["0:-", "300:16.0", "1200:8.0", "2100:24.0"])
        let filled = c.compositeSchedule(connectorId: 1, start: t0, duration: 3_600).filled(with: 32, numberPhases: 3)
        #expect(filled.periods.first?.limit == 32)
    }

    @Test func dailyRecurrenceRepeatsEveryDay() throws {
        // 32 A at night, 10 A from 08:00 to 18:00, every day.
        let daily = profile(1, kind: .recurring(.daily), [(0, 32), (8 * 3_600, 10), (18 * 3_600, 32)])
        let c = try calculator([(1, daily)])
        let s = c.compositeSchedule(connectorId: 1, start: t0 + 12 * hour, duration: Int(day))
        #expect(pairs(s) == ["0:10.0", "21600:32.0", "72000:10.0"])
        // Days later, and before the anchor too: the same pattern.
        #expect(c.limit(at: t0 + 30 * day + 9 * hour, connectorId: 1)?.value == 10)
        #expect(c.limit(at: t0 - day + 23 * hour, connectorId: 1)?.value == 32)
    }

    @Test func dailyRecurrenceWithShortDurationLeavesGaps() throws {
        let c = try calculator([(1, profile(1, kind: .recurring(.daily), [(0, 6)], duration: 3_600, start: t0 + 2 * hour))])
        let s = c.compositeSchedule(connectorId: 1, start: t0, duration: Int(2 * day))
        #expect(pairs(s) == ["0:-", "7200:6.0", "10800:-", "93600:6.0", "97200:-"])
    }

    @Test func weeklyRecurrenceRepeatsEveryWeek() throws {
        // Thursdays 16 A, other days 32 A.
        let c = try calculator([(1, profile(1, kind: .recurring(.weekly), [(0, 16), (86_400, 32)]))])
        let s = c.compositeSchedule(connectorId: 1, start: t0 + 6 * day, duration: Int(2 * day))
        #expect(pairs(s) == ["0:32.0", "86400:16.0"])
        #expect(c.limit(at: t0 + 14 * day + 5, connectorId: 1)?.value == 16)
        #expect(c.limit(at: t0 + 15 * day + 5, connectorId: 1)?.value == 32)
    }

    @Test func relativeProfileStartsAtTheTransactionStart() throws {
        let c = try calculator([(1, profile(1, kind: .relative, [(0, 6), (1_800, 16)]))])
        let tx = ChargingTransactionContext(transactionId: "T1", startedAt: t0 + 100)
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 3_600, transaction: tx)) == ["0:-", "100:6.0", "1900:16.0"])
        // Without a transaction: as if one started at the window's start.
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 3_600)) == ["0:6.0", "1800:16.0"])
        #expect(c.limit(at: t0 + 2_000, connectorId: 1, transaction: tx)?.value == 16)
    }

    @Test func ampsAndWattsConvertWithPhasesAt230Volts() throws {
        let c = try calculator([(1, profile(1, unit: .watts, [(0, 11_040), (600, 3_680)], phases: nil)),
                                (0, profile(2, purpose: .chargingStationMaxProfile, [(0, 32)]))])
        let amps = c.compositeSchedule(connectorId: 1, start: t0, duration: 1_200, unit: .amps)
        #expect(pairs(amps) == ["0:16.0", "600:5.333333333333333"])
        let watts = c.compositeSchedule(connectorId: 0, start: t0, duration: 1_200, unit: .watts)
        #expect(pairs(watts) == ["0:22080.0"])
        var single = try calculator([(1, profile(1, unit: .watts, [(0, 3_680)], phases: 1))])
        #expect(single.limit(at: t0, connectorId: 1) == .amps(16, phases: 1))
        single.clear()
        #expect(single.limit(at: t0, connectorId: 1) == nil)
    }

    @Test func stationMaximumCapsEveryConnector() throws {
        let c = try calculator([(0, profile(1, purpose: .chargingStationMaxProfile, [(0, 20), (600, 40)])),
                                (1, profile(2, [(0, 32)])),
                                (2, profile(3, [(0, 10)]))])
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 1_200)) == ["0:20.0", "600:32.0"])
        #expect(pairs(c.compositeSchedule(connectorId: 2, start: t0, duration: 1_200)) == ["0:10.0"])
        // Connector 0: the station maximum itself.
        #expect(pairs(c.compositeSchedule(connectorId: 0, start: t0, duration: 1_200)) == ["0:20.0", "600:40.0"])
    }

    @Test func stationMaximumInWattsCapsAnAmpsProfile() throws {
        let c = try calculator([(0, profile(1, purpose: .chargingStationMaxProfile, unit: .watts, [(0, 6_900)])),
                                (1, profile(2, [(0, 16)]))])
        #expect(c.limit(at: t0, connectorId: 1)?.value == 10)
        #expect(c.limit(at: t0, connectorId: 1, unit: .watts)?.value == 6_900)
    }

    @Test func txProfileOverridesTxDefaultForItsTransactionOnly() throws {
        let c = try calculator([(1, profile(1, level: 3, [(0, 32)])),
                                (1, profile(2, purpose: .txProfile, kind: .relative, [(0, 8)], duration: 600, transactionId: "T1"))])
        let t1 = ChargingTransactionContext(transactionId: "T1", startedAt: t0)
        let t2 = ChargingTransactionContext(transactionId: "T2", startedAt: t0)
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 1_200, transaction: t1)) == ["0:8.0", "600:32.0"])
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 1_200, transaction: t2)) == ["0:32.0"])
        #expect(pairs(c.compositeSchedule(connectorId: 1, start: t0, duration: 1_200)) == ["0:32.0"])
    }

    @Test func connectorTxDefaultOverridesTheStationWideOne() throws {
        let c = try calculator([(0, profile(1, level: 9, [(0, 16)])), (2, profile(2, level: 0, [(0, 10)]))])
        #expect(c.limit(at: t0, connectorId: 1)?.value == 16)
        #expect(c.limit(at: t0, connectorId: 2)?.value == 10)
    }

    @Test func noProfilesMeansNoLimit() {
        let s = CompositeScheduleCalculator().compositeSchedule(connectorId: 1, start: t0, duration: 600)
        #expect(pairs(s) == ["0:-"])
        #expect(limits(s)[0] == .some(nil))
    }

    @Test func compositeLimitFeedsTheAllocator() throws {
        let c = try calculator([(1, profile(1, unit: .watts, [(0, 7_360)]))])
        let limit = try #require(c.limit(at: t0, connectorId: 1, unit: .watts))
        let input = AllocationInput(now: .zero, gridLimitAmps: 63, connectors: [
            AllocationConnectorInput(connectorId: 1, wantsEnergy: true, boardMaxAmps: 32, externalLimit: limit)])
        #expect(PowerAllocator.allocate(input).allocation(for: 1)?.amps == 10.6)  // 7360 W / 690 V = 10.67 A, rounded down
    }
}

@Suite("Charging profiles: properties over random profile sets")
struct CompositeSchedulePropertyTests {
    private func randomCalculator(_ rng: inout SeededGenerator, around base: Int64) -> CompositeScheduleCalculator {
        var c = CompositeScheduleCalculator()
        for id in 1...Int.random(in: 1...7, using: &rng) {
            let purpose = ChargingProfilePurpose.allCases.randomElement(using: &rng) ?? .txDefaultProfile
            let connector: Int
            switch purpose {
            case .chargingStationMaxProfile: connector = 0
            case .txProfile: connector = Int.random(in: 1...2, using: &rng)
            case .txDefaultProfile: connector = Int.random(in: 0...2, using: &rng)
            }
            let kind: ChargingProfileKind = [.absolute, .recurring(.daily), .recurring(.weekly), .relative]
                .randomElement(using: &rng) ?? .absolute
            let unit: ChargingRateUnit = Bool.random(using: &rng) ? .amps : .watts
            var periods: [ChargingSchedulePeriod] = []
            var start = 0
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let limit = unit == .amps ? Double(Int.random(in: 0...64, using: &rng)) : Double(Int.random(in: 0...44_000, using: &rng))
                periods.append(ChargingSchedulePeriod(startPeriod: start, limit: limit, numberPhases: [nil, 1, 3].randomElement(using: &rng) ?? nil))
                start += Int.random(in: 60...30_000, using: &rng)
            }
            let validFrom: Int64? = Bool.random(using: &rng) ? base + Int64.random(in: -86_400...172_800, using: &rng) : nil
            let validTo: Int64? = Bool.random(using: &rng) ? (validFrom ?? base) + Int64.random(in: 1...259_200, using: &rng) : nil
            let profile = ChargingProfile(
                id: id, stackLevel: Int.random(in: 0...3, using: &rng), purpose: purpose, kind: kind,
                validFrom: validFrom, validTo: validTo,
                transactionId: purpose == .txProfile ? ["T1", "T2", nil].randomElement(using: &rng) ?? nil : nil,
                schedule: ChargingSchedule(unit: unit, periods: periods,
                                           duration: Bool.random(using: &rng) ? Int.random(in: 600...200_000, using: &rng) : nil,
                                           startSchedule: kind == .relative ? nil : base + Int64.random(in: -700_000...200_000, using: &rng)))
            do {
                c.install(try InstalledChargingProfile(connectorId: connector, profile: profile))
            } catch {
                Issue.record("generator made an invalid profile: \(error)")
            }
        }
        return c
    }

    @Test func compositeAgreesWithPointQueriesAndIsWellFormed() {
        var rng = SeededGenerator(seed: 0xC0_0051)
        for _ in 0..<1_000 {
            let base = t0 + Int64.random(in: 0...(30 * day), using: &rng)
            let c = randomCalculator(&rng, around: base)
            let connector = Int.random(in: 0...2, using: &rng)
            let unit: ChargingRateUnit = Bool.random(using: &rng) ? .amps : .watts
            let tx = ChargingTransactionContext(transactionId: Bool.random(using: &rng) ? "T1" : "T9",
                                                startedAt: base + Int64.random(in: -7_200...7_200, using: &rng))
            let duration = Int.random(in: 1...259_200, using: &rng)
            let s = c.compositeSchedule(connectorId: connector, start: base, duration: duration, unit: unit, transaction: tx)
            #expect(s.periods.first?.startPeriod == 0)
            for (a, b) in zip(s.periods, s.periods.dropFirst()) {
                #expect(a.startPeriod < b.startPeriod)
                #expect(a.limit != b.limit || a.numberPhases != b.numberPhases)
            }
            #expect(s.periods.allSatisfy { $0.startPeriod < duration })
            for _ in 0..<20 {
                let offset = Int.random(in: 0..<duration, using: &rng)
                let expected = c.limit(at: base + Int64(offset), connectorId: connector, transaction: tx, unit: unit)
                let period = s.periods.last { $0.startPeriod <= offset }
                #expect(period?.limit == expected?.value, "offset \(offset): \(String(describing: period)) vs \(String(describing: expected))")
                #expect(period?.numberPhases == expected?.numberPhases)
                if let cap = c.limit(at: base + Int64(offset), connectorId: 0, transaction: tx, unit: unit), let l = expected {
                    #expect(l.value <= cap.value, "the station maximum did not cap connector \(connector)")
                }
            }
        }
    }
}

@Suite("Charging profiles: bad input")
struct ChargingProfileRangeTests {
    @Test func timesAndDurationsOutOfRangeAreRejected() {
        func error(_ p: ChargingProfile) -> ChargingProfileError? {
            do { try p.validate(connectorId: 1); return nil } catch { return error }
        }
        #expect(error(profile(1, [(0, 16)], start: Int64.max)) == .outOfRange(profileId: 1, field: "startSchedule"))
        #expect(error(profile(1, [(0, 16)], validFrom: -5)) == .outOfRange(profileId: 1, field: "validFrom"))
        #expect(error(profile(1, [(0, 16)], duration: Int.max)) == .outOfRange(profileId: 1, field: "duration"))
        #expect(error(profile(1, [(0, 16), (Int.max, 8)])) == .outOfRange(profileId: 1, field: "startPeriod"))
    }

    @Test func absurdRequestsAreClampedNotTrapped() throws {
        let c = try calculator([(1, profile(1, kind: .recurring(.daily), [(0, 16)]))])
        #expect(c.limit(at: .max, connectorId: 1)?.value == 16)
        let s = c.compositeSchedule(connectorId: 1, start: .min, duration: .max, transaction: ChargingTransactionContext(transactionId: "x", startedAt: .max))
        #expect(s.periods.first?.startPeriod == 0)
        #expect(s.duration == CompositeScheduleCalculator.longestComposite)
    }
}
