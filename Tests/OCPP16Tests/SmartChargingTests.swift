import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Testing

@Suite("OCPP 1.6 smart charging")
struct SmartChargingTests {
    func accepted(storage: StationStorage? = nil) async throws -> Harness {
        let h = try Harness(storage: storage)
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        return h
    }

    static func profile(id: Int, purpose: String, amps: Double, stackLevel: Int = 0, kind: String = "Relative",
                        extra: [(String, JSONValue)] = [], periods: Int = 1) -> JSONValue {
        var schedule: JSONObject = ["chargingRateUnit": "A"]
        schedule["chargingSchedulePeriod"] = .array((0..<periods).map { i in
            ["startPeriod": .integer(Int64(i * 60)), "limit": .double(amps)]
        })
        if kind == "Absolute" { schedule["startSchedule"] = "2025-12-31T00:00:00Z" }
        var p: JSONObject = ["chargingProfileId": .integer(Int64(id)), "stackLevel": .integer(Int64(stackLevel)),
                             "chargingProfilePurpose": .string(purpose), "chargingProfileKind": .string(kind),
                             "chargingSchedule": .object(schedule)]
        for (k, v) in extra { p[k] = v }
        return .object(p)
    }

    func set(_ h: Harness, connector: Int, _ profile: JSONValue) async throws -> JSONValue? {
        try await h.chargePoint.handle(action: "SetChargingProfile",
                                       payload: ["connectorId": .integer(Int64(connector)), "csChargingProfiles": profile]).get()["status"]
    }

    /// The limit the station was last told to apply on a connector (A), now.
    func stationLimit(_ h: Harness, connector: Int, session: Bool = false) -> Double? {
        let last = h.station.commands.last { if case .chargingProfiles = $0 { return true } else { return false } }
        guard case let .chargingProfiles(calculator)? = last else { return nil }
        let tx = session ? ChargingTransactionContext(transactionId: "s1", startedAt: 1_767_225_600) : nil
        return calculator.limit(at: 1_767_225_600, connectorId: connector, transaction: tx)?.value
    }

    @Test func txDefaultReachesTheStationAndTxProfileNeedsATransaction() async throws {
        let h = try await accepted()
        #expect(try await set(h, connector: 1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 10)) == "Accepted")
        #expect(stationLimit(h, connector: 1) == 10)
        #expect(try await set(h, connector: 1, Self.profile(id: 2, purpose: "TxProfile", amps: 16)) == "Rejected")
        h.station.update(1) { $0.session = Session(id: "s1", connectorId: 1, idToken: IdToken("A"), startReason: .local,
                                                   meterStartWh: 0, startedAtUnixMs: 1_767_225_600_000) }
        #expect(try await set(h, connector: 1, Self.profile(id: 2, purpose: "TxProfile", amps: 16, stackLevel: 1)) == "Accepted")
        #expect(stationLimit(h, connector: 1, session: true) == 16)
        #expect(stationLimit(h, connector: 1, session: false) == 10)
        // The transaction ends: its TxProfile goes.
        try h.sessionEnded(Session(id: "s1", connectorId: 1, idToken: IdToken("A"), startReason: .local,
                                                         meterStartWh: 0, startedAtUnixMs: 1_767_225_600_000))
        #expect(h.chargePoint.smartCharging.calculator.profiles.map(\.profile.id) == [1])
    }

    @Test func invalidProfilesAreRejectedAndChangeNothing() async throws {
        let h = try await accepted()
        let bad: [(Int, JSONValue)] = [
            (1, Self.profile(id: 1, purpose: "ChargePointMaxProfile", amps: 20)),            // station max on a connector
            (0, Self.profile(id: 1, purpose: "TxProfile", amps: 20)),                        // TxProfile on 0
            (3, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 20)),                 // no connector 3
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: -1)),                 // negative limit
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 6, stackLevel: 11)),  // above ChargeProfileMaxStackLevel
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 6, periods: 25)),     // above ChargingScheduleMaxPeriods
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 6, kind: "Recurring")), // no recurrencyKind
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 6, extra: [("validFrom", "2026-02-01T00:00:00Z"), ("validTo", "2026-01-01T00:00:00Z")])),  // empty validity
            (1, Self.profile(id: 1, purpose: "TxDefaultProfile", amps: 6, extra: [("transactionId", 5)])),
        ]
        for (connector, profile) in bad {
            #expect(try await set(h, connector: connector, profile) == "Rejected")
        }
        #expect(h.chargePoint.smartCharging.installedCount == 0)
        #expect(!h.station.commands.contains { if case .chargingProfiles = $0 { return true } else { return false } })
    }

    @Test func maxChargingProfilesInstalledIsEnforced() async throws {
        let h = try await accepted()
        for i in 0..<SmartChargingService.maxProfiles {
            let connector = i % 3
            #expect(try await set(h, connector: connector, Self.profile(id: 100 + i, purpose: "TxDefaultProfile", amps: 8, stackLevel: i / 3)) == "Accepted")
        }
        #expect(try await set(h, connector: 1, Self.profile(id: 999, purpose: "TxDefaultProfile", amps: 8, stackLevel: 10)) == "Rejected")
        // Replacing one (same id) is still fine.
        #expect(try await set(h, connector: 0, Self.profile(id: 100, purpose: "TxDefaultProfile", amps: 9)) == "Accepted")
        #expect(h.chargePoint.smartCharging.installedCount == SmartChargingService.maxProfiles)
    }

    @Test func clearByIdConnectorPurposeAndStackLevelThenUnknown() async throws {
        let h = try await accepted()
        #expect(try await set(h, connector: 0, Self.profile(id: 1, purpose: "ChargePointMaxProfile", amps: 20)) == "Accepted")
        #expect(try await set(h, connector: 1, Self.profile(id: 2, purpose: "TxDefaultProfile", amps: 10)) == "Accepted")
        #expect(try await set(h, connector: 2, Self.profile(id: 3, purpose: "TxDefaultProfile", amps: 12, stackLevel: 2)) == "Accepted")
        #expect(try await set(h, connector: 2, Self.profile(id: 4, purpose: "TxDefaultProfile", amps: 14, stackLevel: 3)) == "Accepted")
        func clear(_ payload: JSONValue) async throws -> JSONValue? {
            try await h.chargePoint.handle(action: "ClearChargingProfile", payload: payload).get()["status"]
        }
        #expect(try await clear(["id": 9]) == "Unknown")
        #expect(try await clear(["id": 2]) == "Accepted")
        #expect(try await clear(["connectorId": 2, "stackLevel": 3]) == "Accepted")
        #expect(h.chargePoint.smartCharging.calculator.profiles.map(\.profile.id).sorted() == [1, 3])
        #expect(try await clear(["chargingProfilePurpose": "ChargePointMaxProfile"]) == "Accepted")
        #expect(stationLimit(h, connector: 0) == nil)
        #expect(try await clear([:]) == "Accepted")
        #expect(try await clear([:]) == "Unknown")
    }

    @Test func compositeScheduleReportsTheLimitInForce() async throws {
        let h = try await accepted()
        func composite(_ connector: Int, unit: String = "A") async throws -> JSONValue {
            try await h.chargePoint.handle(action: "GetCompositeSchedule",
                                           payload: ["connectorId": .integer(Int64(connector)), "duration": 3_600,
                                                     "chargingRateUnit": .string(unit)]).get()
        }
        let empty = try await composite(1)
        #expect(empty["status"] == "Accepted")
        #expect(empty["chargingSchedule"] == nil)
        #expect(try await set(h, connector: 0, Self.profile(id: 1, purpose: "ChargePointMaxProfile", amps: 20)) == "Accepted")
        #expect(try await set(h, connector: 1, Self.profile(id: 2, purpose: "TxDefaultProfile", amps: 10, periods: 2)) == "Accepted")
        let one = try await composite(1)
        #expect(one["status"] == "Accepted")
        #expect(one["connectorId"] == 1)
        #expect(firstPeriod(one["chargingSchedule"]?["chargingSchedulePeriod"]).flatMap { $0["limit"] } == 10.0)
        #expect(one["chargingSchedule"]?["duration"] == 3_600)
        let zero = try await composite(0)
        #expect(firstPeriod(zero["chargingSchedule"]?["chargingSchedulePeriod"]).flatMap { $0["limit"] } == 20.0)
        let watts = try await composite(1, unit: "W")
        #expect(watts["chargingSchedule"]?["chargingRateUnit"] == "W")
        #expect(firstPeriod(watts["chargingSchedule"]?["chargingSchedulePeriod"]).flatMap { $0["limit"] } == 6_900.0)
        let none = try await h.chargePoint.handle(action: "GetCompositeSchedule", payload: ["connectorId": 7, "duration": 60]).get()
        #expect(none["status"] == "Rejected")
    }

    @Test func profilesSurviveARestart() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        do {
            let h = try await accepted(storage: storage)
            #expect(try await set(h, connector: 1, Self.profile(id: 5, purpose: "TxDefaultProfile", amps: 11, kind: "Absolute")) == "Accepted")
            await h.chargePoint.stop()
        }
        let again = try Harness(storage: storage)
        #expect(again.chargePoint.smartCharging.calculator.profiles.map(\.profile.id) == [5])
        // The station is told at once what the stored profiles are.
        #expect(stationLimit(again, connector: 1) == 11)
    }

    @Test func remoteStartWithATxProfileInstallsItAndRefusesOtherPurposes() async throws {
        let h = try await accepted()
        let wrong = try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: [
            "idTag": "R1", "connectorId": 1, "chargingProfile": Self.profile(id: 7, purpose: "TxDefaultProfile", amps: 8)]).get()
        #expect(wrong["status"] == "Rejected")
        let right = try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: [
            "idTag": "R1", "connectorId": 1, "chargingProfile": Self.profile(id: 7, purpose: "TxProfile", amps: 8)]).get()
        #expect(right["status"] == "Accepted")
        #expect(stationLimit(h, connector: 1, session: true) == 8)
        // The station took the start, then the TxProfile went to it for that connector.
        let asked = h.station.commands
        let start = try #require(asked.firstIndex(of: .remoteStart(connectorId: 1, idToken: IdToken("R1", kind: .central), parentIdToken: nil)))
        let profiles = try #require(asked.lastIndex { if case .chargingProfiles = $0 { true } else { false } })
        #expect(start < profiles)
    }

    @Test func smartChargingKeysAreReadOnlyAndListed() async throws {
        let h = try await accepted()
        let answer = try await h.chargePoint.handle(action: "GetConfiguration", payload: ["key": [
            "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit", "ChargingScheduleMaxPeriods",
            "MaxChargingProfilesInstalled", "SupportedFeatureProfiles"]]).get()
        guard case let .array(keys)? = answer["configurationKey"] else { Issue.record("no keys"); return }
        var values: [String: String] = [:]
        for k in keys {
            if case let .string(name)? = k["key"], case let .string(value)? = k["value"] { values[name] = value }
            #expect(k["readonly"] == true)
        }
        #expect(values["ChargeProfileMaxStackLevel"] == "10")
        #expect(values["ChargingScheduleAllowedChargingRateUnit"] == "Current,Power")
        #expect(values["ChargingScheduleMaxPeriods"] == "24")
        #expect(values["MaxChargingProfilesInstalled"] == "20")
        #expect(values["SupportedFeatureProfiles"]?.contains("SmartCharging") == true)
        let change = try await h.chargePoint.handle(action: "ChangeConfiguration",
                                                    payload: ["key": "ChargeProfileMaxStackLevel", "value": "3"]).get()
        #expect(change["status"] == "Rejected")
    }

    func firstPeriod(_ periods: JSONValue?) -> JSONValue? {
        if case let .array(items)? = periods { return items.first }
        return nil
    }

    @Test func rfc3339TimesParse() {
        #expect(OCPP16Timestamp.unixSeconds("2026-01-01T00:00:00Z") == 1_767_225_600)
        #expect(OCPP16Timestamp.unixSeconds("2026-01-01T00:00:00.250Z") == 1_767_225_600)
        #expect(OCPP16Timestamp.unixSeconds("2026-01-01T01:00:00+01:00") == 1_767_225_600)
        #expect(OCPP16Timestamp.unixSeconds("1970-01-01T00:00:00Z") == 0)
        #expect(OCPP16Timestamp.unixSeconds("2026-13-01T00:00:00Z") == nil)
        #expect(OCPP16Timestamp.unixSeconds("2026-01-01 00:00") == nil)
        #expect(OCPP16Timestamp.unixSeconds("2026-01-01T00:00:00") == nil)
    }
}
