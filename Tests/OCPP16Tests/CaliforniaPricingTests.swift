import ChargingCore
import OCPP16
import OCPP16Messages
import OCPPJSON
import StationPort
import Testing

@Suite("OCPP 1.6 California Pricing (DataTransfer org.openchargealliance.costmsg)")
struct CaliforniaPricingTests {
    func accepted() async throws -> Harness {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        return h
    }

    func transfer(_ h: Harness, vendor: String = CaliforniaPricingService.vendorId, _ messageId: String?, _ data: String?) async -> String? {
        var payload = JSONObject()
        payload["vendorId"] = .string(vendor)
        if let messageId { payload["messageId"] = .string(messageId) }
        if let data { payload["data"] = .string(data) }
        return try? await h.chargePoint.handle(action: "DataTransfer", payload: .object(payload)).get()["status"]?.stringValue
    }

    func priceUpdates(_ h: Harness) -> [PriceUpdate] {
        h.station.requests.compactMap { if case let .showPrice(u) = $0 { return u } else { return nil } }
    }

    /// The default price the station was last given.
    func lastDefaultPrice(_ h: Harness) -> (LocalizedText?, offline: LocalizedText?)? {
        for case let .defaultPrice(text, offline) in priceUpdates(h).reversed() { return (text, offline) }
        return nil
    }

    /// A session with transactionId 101 from the fake CSMS.
    func runningTransaction(_ h: Harness) async throws -> Session {
        let session = try h.beginSession("s1", meterStartWh: 1_000)
        try h.sessionStarted(session)
        #expect(await settle { h.chargePoint.transactions.transactionId(ofSession: "s1") != nil })
        return session
    }

    @Test func unknownVendorAndUnknownMessageIdAreToldApart() async throws {
        let h = try await accepted()
        #expect(await transfer(h, vendor: "com.example", "SetUserPrice", "{}") == "UnknownVendorId")
        #expect(await transfer(h, "SetTariff", "{}") == "UnknownMessageId")
        #expect(await transfer(h, nil, "{}") == "UnknownMessageId")
        #expect(priceUpdates(h) == [.defaultPrice(nil, offline: nil), .stationLanguage("")], "only the start's display keys")
    }

    @Test func setUserPriceGoesToTheStationWithItsLanguages() async throws {
        let h = try await accepted()
        let data = #"{"idToken": "ABC123", "priceText": "$0.12/kWh, no idle fee", "language": "nl", "#
            + #""priceTextExtra": [{"format": "UTF8", "language": "nl", "content": "€0,12/kWh, geen idle fee"},"#
            + #"{"format": "UTF8", "language": "de", "content": "0,12 €/kWh, keine Standgebühr"}]}"#
        #expect(await transfer(h, "SetUserPrice", data) == "Accepted")
        guard case let .driverPrice(token, text, language)? = priceUpdates(h).last else {
            Issue.record("no driver price: \(priceUpdates(h))"); return
        }
        #expect(token == "ABC123")
        #expect(language == "nl")
        #expect(text.text(preferring: ["nl"]) == "€0,12/kWh, geen idle fee")
        #expect(text.text(preferring: ["de"]) == "0,12 €/kWh, keine Standgebühr")
        #expect(text.text(preferring: ["fr"]) == "$0.12/kWh, no idle fee")
    }

    @Test func badMessagesAreRejectedAndChangeNothing() async throws {
        let h = try await accepted()
        _ = try await runningTransaction(h)
        let before = priceUpdates(h).count
        for (id, data) in [
            ("SetUserPrice", "not json"),
            ("SetUserPrice", #"{"priceText": "x"}"#),
            ("SetUserPrice", #"{"idToken": "A", "priceText": 5}"#),
            ("SetUserPrice", #"{"idToken": "A", "priceText": "x", "priceTextExtra": [{"format": "HTML", "language": "de", "content": "<b>"}]}"#),
            ("RunningCost", #"{"transactionId": 101, "timestamp": "yesterday", "meterValue": 1, "cost": 1, "state": "Charging", "chargingPrice": {}}"#),
            ("RunningCost", #"{"transactionId": 101, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 1, "cost": -1, "state": "Charging", "chargingPrice": {}}"#),
            ("RunningCost", #"{"transactionId": 101, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 1, "cost": 1, "state": "Parked", "chargingPrice": {}}"#),
            ("RunningCost", #"{"transactionId": 101, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 1, "cost": 1, "state": "Charging"}"#),
            ("RunningCost", #"{"transactionId": 999, "timestamp": "2026-01-01T00:00:00Z", "meterValue": 1, "cost": 1, "state": "Charging", "chargingPrice": {}}"#),
            ("FinalCost", #"{"transactionId": 101, "cost": "3.31", "priceText": "x"}"#),
            ("FinalCost", nil),
        ] as [(String, String?)] {
            #expect(await transfer(h, id, data) == "Rejected", "\(id) \(data ?? "nil")")
        }
        #expect(priceUpdates(h).count == before)
    }

    @Test func runningCostAndFinalCostAreMappedToTheSessionInIntegerMoney() async throws {
        let h = try await accepted()
        _ = try await runningTransaction(h)
        let running = #"{"transactionId": 101, "timestamp": "2026-01-01T00:10:00Z", "meterValue": 1234000, "cost": 1.23, "#
            + #""state": "Charging", "chargingPrice": {"kWhPrice": 0.123, "hourPrice": 0.00, "flatFee": 0.00}, "#
            + #""idlePrice": {"graceMinutes": 30, "hourPrice": 1.00}, "#
            + #""nextPeriod": {"atTime": "2026-01-01T19:00:00Z", "chargingPrice": {"kWhPrice": 0.100}}, "#
            + #""triggerMeterValue": {"atEnergykWh": 5.0, "atPowerkW": 0.1, "atCPStatus": ["SuspendedEV", "SuspendedEVSE"]}}"#
        #expect(await transfer(h, "RunningCost", running) == "Accepted")
        guard case let .runningCost(cost)? = priceUpdates(h).last else { Issue.record("\(priceUpdates(h))"); return }
        #expect(cost.sessionId == "s1")
        #expect(cost.cost == Money(minorUnits: 123, decimals: 2))
        #expect(cost.meterWh == 1_234_000)
        #expect(cost.atUnixSeconds == 1_767_226_200)
        #expect(cost.chargingPrice.perKilowattHour == Money(minorUnits: 123_000, decimals: 6))
        #expect(cost.idlePrice == IdlePrice(graceMinutes: 30, perHour: Money(minorUnits: 1_000_000, decimals: 6)))
        #expect(cost.nextPeriod?.chargingPrice.perKilowattHour == Money(minorUnits: 100_000, decimals: 6))

        let final = #"{"transactionId": 101, "cost": 3.31, "priceText": "$2.81 @ $0.12/kWh, TOTAL $3.31", "#
            + #""priceTextExtra": [{"format": "UTF8", "language": "fr", "content": "Total 3,31 $"}], "qrCodeText": "https://cpo.example/i/13546"}"#
        #expect(await transfer(h, "FinalCost", final) == "Accepted")
        guard case let .finalCost(total)? = priceUpdates(h).last else { Issue.record("\(priceUpdates(h))"); return }
        #expect(total.sessionId == "s1")
        #expect(total.cost == Money(minorUnits: 331, decimals: 2))
        #expect(total.text.text(preferring: ["fr"]) == "Total 3,31 $")
        #expect(total.qrCodeText == "https://cpo.example/i/13546")
    }

    @Test func numberOfDecimalsForCostValuesSetsTheCostsPrecision() async throws {
        let h = try await accepted()
        _ = try await runningTransaction(h)
        #expect(try await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "NumberOfDecimalsForCostValues", "value": "3"]).get()["status"] == "Accepted")
        #expect(await transfer(h, "FinalCost", #"{"transactionId": 101, "cost": 3.3125, "priceText": "x"}"#) == "Accepted")
        guard case let .finalCost(total)? = priceUpdates(h).last else { Issue.record("\(priceUpdates(h))"); return }
        #expect(total.cost == Money(minorUnits: 3_313, decimals: 3))
    }

    @Test func customDisplayCostAndPriceFalseRejectsEveryMessageAndClearsTheDefaultPrice() async throws {
        let h = try await accepted()
        func change(_ key: String, _ value: String) async -> String? {
            try? await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": .string(key), "value": .string(value)]).get()["status"]?.stringValue
        }
        #expect(await change("DefaultPrice", #"{"priceText": "0.15 $/kWh", "priceTextOffline": "Offline: 0.15 $/kWh", "chargingPrice": {"kWhPrice": 0.15}}"#) == "Accepted")
        guard let (text, offline) = lastDefaultPrice(h) else { Issue.record("\(priceUpdates(h))"); return }
        #expect(text?.text == "0.15 $/kWh")
        #expect(offline?.text == "Offline: 0.15 $/kWh")
        #expect(await change("CustomDisplayCostAndPrice", "false") == "Accepted")
        #expect(lastDefaultPrice(h).map { $0.0 == nil && $0.offline == nil } == true, "applies at once")
        #expect(await transfer(h, "SetUserPrice", #"{"idToken": "A", "priceText": "x"}"#) == "Rejected")
        #expect(await change("CustomDisplayCostAndPrice", "true") == "Accepted")
        #expect(await transfer(h, "SetUserPrice", #"{"idToken": "A", "priceText": "x"}"#) == "Accepted")
    }

    @Test func theNotesKeysValidateAndApplyAtOnce() async throws {
        let h = try await accepted()
        func change(_ key: String, _ value: String) async -> String? {
            try? await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": .string(key), "value": .string(value)]).get()["status"]?.stringValue
        }
        #expect(await change("DefaultPrice", "0.15 $/kWh") == "Rejected", "not JSON")
        #expect(await change("DefaultPrice", #"{"priceTextOffline": "x"}"#) == "Rejected", "priceText missing")
        #expect(await change("DefaultPriceText,de", #"{"priceText": "0,15 €/kWh", "priceTextOffline": "Offline 0,15 €/kWh"}"#) == "Accepted")
        guard let (text, _) = lastDefaultPrice(h) else { Issue.record("\(priceUpdates(h))"); return }
        #expect(text?.text(preferring: ["de"]) == "0,15 €/kWh")
        #expect(await change("DefaultPriceText,it", #"{"priceText": "x"}"#) == "NotSupported", "no Italian screens")
        #expect(await change("Language", "fr") == "Accepted")
        #expect(priceUpdates(h).last == .stationLanguage("fr"))
        #expect(await change("Language", "it") == "Rejected")
        #expect(await change("Language", "") == "Accepted", "back to the station file's language")
        #expect(priceUpdates(h).last == .stationLanguage(""))
        #expect(await change("Language", "fr") == "Accepted")
        #expect(await change("TimeOffset", "-05:00") == "Accepted")
        #expect(await change("TimeOffset", "5") == "Rejected")
        #expect(await change("TimeOffsetNextTransition", "-04:00") == "Accepted")
        #expect(await change("NextTimeOffsetTransitionDateTime", "2026-03-08T02:00:00-05:00") == "Accepted")
        #expect(await change("NextTimeOffsetTransitionDateTime", "soon") == "Rejected")
        #expect(await change("SupportedLanguages", "en") == "Rejected", "read-only")
        #expect(await change("NumberOfDecimalsForCostValues", "7") == "Rejected")

        let answer = try await h.chargePoint.handle(action: "GetConfiguration", payload: [
            "key": ["CustomDisplayCostAndPrice", "SupportedLanguages", "Language", "TimeOffset"],
        ]).get()
        let response = try GetConfigurationResponse(json: answer)
        #expect(response.configurationKey?.map(\.value) == ["true", "en,de,fr,nl", "fr", "-05:00"])
    }

    @Test func triggersSendAMeterValuesOnACrossingNotOnEveryReading() {
        var service = CaliforniaPricingService()
        func reading(_ session: String, _ wh: Int64, _ w: Double) -> Bool { service.reading(session: session, energyWh: wh, powerW: w) }
        func status(_ s: CaliforniaPricingService.ChargePointStatus) -> Bool { service.status(session: "s", s) }
        func due(_ t: Int64) -> [String] { service.due(atUnixSeconds: t) }
        service.setTriggers(.init(atEnergyWh: 5_000, atPowerW: 100, atStatus: [.suspendedEV]), session: "s")
        #expect(!reading("s", 1_000, 7_000), "the first reading sets the side")
        #expect(!reading("s", 2_000, 6_000))
        #expect(reading("s", 3_000, 50), "power fell below 0.1 kW")
        #expect(!reading("s", 3_000, 40))
        #expect(!reading("s", 3_000, 101), "inside the hysteresis band")
        #expect(reading("s", 5_000, 40), "5 kWh reached")
        #expect(!reading("s", 6_000, 40), "once")
        #expect(status(.suspendedEV))
        #expect(!status(.charging))
        #expect(!reading("other", 9_000, 0))
        service.setTriggers(.init(atUnixSeconds: 100), session: "t")
        #expect(due(99).isEmpty)
        #expect(due(100) == ["t"])
        #expect(due(200).isEmpty)
    }
}
