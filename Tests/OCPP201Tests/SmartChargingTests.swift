import ChargingCore
import HAL
import OCPP201
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

@Suite("OCPP 2.0.1 smart charging (K)")
struct SmartChargingTests {
    static func profile(id: Int, purpose: String, limit: Double, stackLevel: Int = 0, kind: String = "Relative") -> JSONValue {
        ["id": .integer(Int64(id)), "stackLevel": .integer(Int64(stackLevel)), "chargingProfilePurpose": .string(purpose),
         "chargingProfileKind": .string(kind),
         "chargingSchedule": [["id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [["startPeriod": 0, "limit": .double(limit)]]]]]
    }

    func installed(_ h: Harness) -> [CompositeScheduleCalculator] {
        h.station.requests.compactMap { if case .chargingProfiles(let c) = $0 { return c }; return nil }
    }

    @Test func aTxDefaultProfileReachesTheCoreIsPersistedAndComposes() async throws {
        let h = try await Harness.accepted()
        let set = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 1, "chargingProfile": Self.profile(id: 1, purpose: "TxDefaultProfile", limit: 13)]).get()
        #expect(set["status"] == "Accepted")
        #expect(installed(h).last?.profiles.map(\.connectorId) == [1])
        let composite = try await h.chargingStation.handle(action: "GetCompositeSchedule", payload: ["duration": 600, "evseId": 1]).get()
        #expect(composite["status"] == "Accepted")
        #expect(composite["schedule"]?["chargingSchedulePeriod"]?.arrayValue?.first?["limit"]?.doubleValue == 13)
        // A restart on the same database hands the stored profile to the station at once.
        let again = FakeStation()
        _ = OCPP201ChargingStation(identity: .init(vendor: "V", model: "M"), sender: FakeCSMS(), station: again,
                                   storage: h.storage, unixMs: { 1_767_225_600_000 })
        #expect(again.requests.contains { if case .chargingProfiles(let c) = $0 { return c.profiles.count == 1 }; return false })
    }

    @Test func whatTheStationCannotHonourIsRejectedWithAReasonCode() async throws {
        let h = try await Harness.accepted()
        let maxOnEvse = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 1, "chargingProfile": Self.profile(id: 2, purpose: "ChargingStationMaxProfile", limit: 32)]).get()
        #expect(maxOnEvse["status"] == "Rejected")
        #expect(maxOnEvse["statusInfo"]?["reasonCode"] == "InvalidEvse")
        let txWithout = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 2, "chargingProfile": Self.profile(id: 3, purpose: "TxProfile", limit: 10)]).get()
        #expect(txWithout["statusInfo"]?["reasonCode"] == "TxNotFound")
        let tooHigh = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 0, "chargingProfile": Self.profile(id: 4, purpose: "TxDefaultProfile", limit: 10, stackLevel: 99)]).get()
        #expect(tooHigh["statusInfo"]?["reasonCode"] == "InvalidStackLevel")
        #expect(installed(h).isEmpty, "nothing half-applied")
    }

    @Test func numberPhasesReachesTheCoreAndPhaseToUseIsRefused() async throws {
        let h = try await Harness.accepted()
        func withPeriod(id: Int, _ period: JSONValue) -> JSONValue {
            ["id": .integer(Int64(id)), "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",
             "chargingSchedule": [["id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [period]]]]
        }
        let onePhase = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 1, "chargingProfile": withPeriod(id: 20, ["startPeriod": 0, "limit": 16, "numberPhases": 1])]).get()
        #expect(onePhase["status"] == "Accepted")
        let limit = installed(h).last?.limit(at: 1_767_225_600, connectorId: 1)
        #expect(limit?.numberPhases == 1 && limit?.value == 16)

        let choosePhase = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 1, "chargingProfile": withPeriod(id: 21, ["startPeriod": 0, "limit": 16, "numberPhases": 1, "phaseToUse": 2])]).get()
        #expect(choosePhase["status"] == "Rejected")
        #expect(choosePhase["statusInfo"]?["reasonCode"] == "UnsupportedParam")
        let phaseOnThree = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 1, "chargingProfile": withPeriod(id: 22, ["startPeriod": 0, "limit": 16, "phaseToUse": 1])]).get()
        #expect(phaseOnThree["statusInfo"]?["reasonCode"] == "InvalidSchedule")
        #expect(installed(h).last?.profiles.map(\.profile.id) == [20], "the refused profiles were not installed")
    }

    @Test func getChargingProfilesReportsPerEVSEAndClearRemoves() async throws {
        let h = try await Harness.accepted()
        for (id, evse) in [(10, 0), (11, 1), (12, 2)] {
            _ = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
                "evseId": .integer(Int64(evse)), "chargingProfile": Self.profile(id: id, purpose: "TxDefaultProfile", limit: 16)]).get()
        }
        let get = try await h.chargingStation.handle(action: "GetChargingProfiles", payload: [
            "requestId": 5, "chargingProfile": ["chargingProfilePurpose": "TxDefaultProfile"]]).get()
        #expect(get["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("ReportChargingProfiles").count == 3 })
        let reports = h.csms.payloads("ReportChargingProfiles")
        #expect(reports.map { $0["evseId"] } == [.integer(0), .integer(1), .integer(2)])
        #expect(reports.map { $0["tbc"] } == [.bool(true), .bool(true), nil])
        let none = try await h.chargingStation.handle(action: "GetChargingProfiles", payload: [
            "requestId": 6, "chargingProfile": ["chargingProfilePurpose": "ChargingStationMaxProfile"]]).get()
        #expect(none["status"] == "NoProfiles")
        let clear = try await h.chargingStation.handle(action: "ClearChargingProfile", payload: ["chargingProfileId": 11]).get()
        #expect(clear["status"] == "Accepted")
        let again = try await h.chargingStation.handle(action: "ClearChargingProfile", payload: ["chargingProfileId": 11]).get()
        #expect(again["status"] == "Unknown")
        #expect(installed(h).last?.profiles.map(\.profile.id).sorted() == [10, 12])
    }

    @Test func aTxProfileGoesWithItsTransaction() async throws {
        let h = try await Harness.accepted()
        let session = try h.sessionStarted("tx-k", connector: 2)
        let set = try await h.chargingStation.handle(action: "SetChargingProfile", payload: [
            "evseId": 2, "chargingProfile": Self.profile(id: 20, purpose: "TxProfile", limit: 8)]).get()
        #expect(set["status"] == "Accepted")
        try h.sessionEnded(session)
        #expect(await settle { self.installed(h).last?.profiles.isEmpty == true })
    }

    // MARK: The station's own limits (NotifyChargingLimit, ClearedChargingLimit)

    @Test func theStationsOwnLimitIsNotifiedWhenItMovesSignificantlyAndClearedWhenItEnds() async throws {
        let h = try await Harness.accepted()
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: 25))
        #expect(await settle { h.csms.payloads("NotifyChargingLimit").count == 1 })
        let first = h.csms.payloads("NotifyChargingLimit")[0]
        #expect(first["evseId"] == .integer(1))
        #expect(first["chargingLimit"]?["chargingLimitSource"] == "EMS")
        #expect(first["chargingLimit"]?["isGridCritical"] == .bool(false))
        #expect(first["chargingSchedule"] == nil, "NotifyChargingLimitWithSchedules is false by default")
        // 24 A is 4 % below 25 A: under LimitChangeSignificance (10 %), not worth a message.
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: 24))
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: 16))
        #expect(await settle { h.csms.payloads("NotifyChargingLimit").count == 2 })
        for _ in 0..<100 { await Task.yield() }
        #expect(h.csms.payloads("NotifyChargingLimit").count == 2, "the 24 A step was not reported")
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: nil))
        #expect(await settle { h.csms.payloads("ClearedChargingLimit").count == 1 })
        let cleared = h.csms.payloads("ClearedChargingLimit")[0]
        #expect(cleared["chargingLimitSource"] == "EMS" && cleared["evseId"] == .integer(1))
        // A second "none" says nothing more.
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: nil))
        for _ in 0..<100 { await Task.yield() }
        #expect(h.csms.payloads("ClearedChargingLimit").count == 1)
    }

    @Test func withSchedulesTheLimitComesAsASchedule() async throws {
        var settings = OCPP201Settings()
        settings.notifyChargingLimitWithSchedules = true
        let h = try await Harness.accepted(settings: settings)
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 2, amps: 13))
        #expect(await settle { h.csms.payloads("NotifyChargingLimit").count == 1 })
        let schedule = h.csms.payloads("NotifyChargingLimit")[0]["chargingSchedule"]?[0]
        #expect(schedule?["chargingRateUnit"] == "A")
        #expect(schedule?["chargingSchedulePeriod"]?[0]?["limit"]?.doubleValue == 13)
        #expect(schedule?["startSchedule"] != nil)
    }

    @Test func aLimitThatChangedWhileOfflineIsReportedOnReconnect() async throws {
        let h = try await Harness.accepted()
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        h.chargingStation.stationEvent(.localChargingLimit(connectorId: 1, amps: 20))
        for _ in 0..<100 { await Task.yield() }
        #expect(h.csms.payloads("NotifyChargingLimit").isEmpty)
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("NotifyChargingLimit").count == 1 })
    }
}
