import ChargingCore
import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

/// Block I: the driver's tariff when they identify, the running and final cost, in their
/// language, as the station's `.showPrice` updates; money in minor units.
@Suite struct TariffCostTests {
    static func prices(_ h: Harness) -> [PriceUpdate] {
        h.station.requests.compactMap { if case let .showPrice(u) = $0 { return u } else { return nil } }
    }

    static let tariff = MessageContentType(format: .utf8, language: "nl", content: "0,35 EUR/kWh voor u")

    /// Authorize with a personal message in Dutch (language1 Klingon, which the station has no
    /// screens in; language2 Dutch); TransactionEvents with costs.
    static func csms(totalCost: Double? = 3.31) -> FakeCSMS {
        FakeCSMS { action, payload in
            switch action {
            case "Authorize":
                return .success(AuthorizeResponse(idTokenInfo: IdTokenInfoType(status: .accepted, language1: "tlh", language2: "nl",
                                                                                personalMessage: tariff)).toJSON())
            case "TransactionEvent":
                let ended = payload["eventType"] == "Ended"
                return .success(TransactionEventResponse(
                    totalCost: payload["eventType"] == "Started" ? nil : totalCost,
                    updatedPersonalMessage: ended ? MessageContentType(format: .utf8, language: "nl", content: "Bedankt") : nil)
                    .toJSON())
            default:
                return FakeCSMS.acceptEverything()(action, payload)
            }
        }
    }

    static func model(_ storage: StationStorage, _ initial: [VariableKey: String] = [:]) throws -> DeviceModel {
        try DeviceModel(store: storage.deviceModel, layout: StationLayout(evses: [EVSELayout(evseId: 1), EVSELayout(evseId: 2)]),
                        identity: StationIdentity(vendorName: "SwiftEVSE", model: "Test", firmwareVersion: "1.0"),
                        initialValues: initial)
    }

    @Test func theTariffIsShownWhenTheDriverIdentifiesInTheirLanguage() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(csms: Self.csms(), storage: storage, deviceModel: try Self.model(storage))
        h.chargingStation.stationEvent(.authorizationNeeded(IdToken("CARD1")))
        #expect(await settle { h.station.requests.contains { if case .authorizationResult = $0 { true } else { false } } })
        #expect(Self.prices(h).contains(.driverPrice(idToken: "CARD1", LocalizedText("0,35 EUR/kWh voor u",
                                                                                      translations: ["nl": "0,35 EUR/kWh voor u"]),
                                                      language: "nl")))
        // The tariff reaches the station before the authorization it belongs to.
        let order = h.station.requests.compactMap { r -> String? in
            switch r {
            case .showPrice(.driverPrice): "price"
            case .authorizationResult: "result"
            default: nil
            }
        }
        #expect(order == ["price", "result"])
    }

    @Test func runningCostFromTheUpdatedAnswerAndFinalCostFromTheEndedOneInMinorUnits() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(csms: Self.csms(totalCost: 3.31), storage: storage, deviceModel: try Self.model(storage))
        let session = try h.sessionStarted("tx-7")
        h.chargingStation.kickOutbox()
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        // The EV pauses: an Updated event, whose answer carries the running cost.
        h.station.update(1) { $0.status = .suspendedEV }
        h.station.emit(.statusChanged(connectorId: 1, .suspendedEV, nil, atUnixMs: h.clock.now()))
        #expect(await settle { Self.prices(h).contains { if case .runningCost = $0 { true } else { false } } })
        let runningFromAnswer = Self.prices(h).compactMap { if case let .runningCost(c) = $0 { return c } else { return nil } }.first
        #expect(runningFromAnswer?.sessionId == "tx-7")
        #expect(runningFromAnswer?.cost == Money(minorUnits: 331, decimals: 2))
        try h.sessionEnded(session)
        #expect(await settle { Self.prices(h).contains { if case .finalCost = $0 { true } else { false } } })
        #expect(Self.prices(h).contains(.finalCost(FinalCost(sessionId: "tx-7", cost: Money(minorUnits: 331, decimals: 2),
                                                             text: LocalizedText("Bedankt", translations: ["nl": "Bedankt"])))))
        // CostUpdated while a transaction runs is its running cost.
        let running = try h.sessionStarted("tx-8", connector: 2)
        _ = try await h.chargingStation.handle(action: "CostUpdated", payload: ["totalCost": 1.07, "transactionId": .string(running.id)]).get()
        let cost = Self.prices(h).compactMap { if case let .runningCost(c) = $0 { return c } else { return nil } }.last
        #expect(cost?.sessionId == "tx-8")
        #expect(cost?.cost == Money(minorUnits: 107, decimals: 2))
    }

    @Test func aZeroDecimalCurrencyAndDisabledCostsAreHonoured() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage, [VariableKey(component: "TariffCostCtrlr", variable: "Currency"): "JPY"])
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        let session = try h.sessionStarted("tx-1")
        _ = try await h.chargingStation.handle(action: "CostUpdated", payload: ["totalCost": 412.6, "transactionId": "tx-1"]).get()
        #expect(Self.prices(h).contains { if case let .runningCost(c) = $0 { c.cost == Money(minorUnits: 413, decimals: 0) } else { false } })
        _ = session
        let off = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "false", "component": ["name": "TariffCostCtrlr"], "variable": ["name": "Enabled", "instance": "Cost"]]]]).get()
        #expect(off["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(await settle { await !h.chargingStation.settings.costEnabled })
        let before = Self.prices(h).count
        _ = try await h.chargingStation.handle(action: "CostUpdated", payload: ["totalCost": 500, "transactionId": "tx-1"]).get()
        #expect(Self.prices(h).count == before, "Enabled[Cost] false: nothing shown")
    }

    @Test func theTariffControllerVariablesAreReadableAndTheFallbackIsTheIdlePrice() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let set = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "0.30 EUR/kWh", "component": ["name": "TariffCostCtrlr"], "variable": ["name": "TariffFallbackMessage"]]]]).get()
        #expect(set["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(await settle { Self.prices(h).contains(.defaultPrice(LocalizedText("0.30 EUR/kWh"), offline: nil)) })
        let answer = try await h.chargingStation.handle(action: "GetVariables", payload: ["getVariableData": [
            ["component": ["name": "TariffCostCtrlr"], "variable": ["name": "Available", "instance": "Tariff"]],
            ["component": ["name": "TariffCostCtrlr"], "variable": ["name": "Enabled", "instance": "Cost"]],
            ["component": ["name": "TariffCostCtrlr"], "variable": ["name": "Currency"]],
            ["component": ["name": "TariffCostCtrlr"], "variable": ["name": "TotalCostFallbackMessage"]],
        ]]).get()
        #expect((0..<4).map { answer["getVariableResult"]?[$0]?["attributeValue"]?.stringValue } == ["true", "true", "EUR", ""])
    }

    /// `updatedPersonalMessage` of an answer during the transaction: shown in the normal cycle,
    /// bound to the transaction (so it leaves the glass when the transaction ends), one id per EVSE.
    @Test func theUpdatedPersonalMessageIsShownWhileTheTransactionRuns() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let csms = FakeCSMS { action, payload in
            guard action == "TransactionEvent" else { return FakeCSMS.acceptEverything()(action, payload) }
            let text = payload["eventType"] == "Updated" ? "Nu 1,20 EUR" : nil
            return .success(TransactionEventResponse(totalCost: nil,
                                                     updatedPersonalMessage: text.map { MessageContentType(format: .utf8, content: $0) })
                .toJSON())
        }
        let h = try await Harness.accepted(csms: csms, storage: storage, deviceModel: try Self.model(storage))
        let session = try h.sessionStarted("tx-9")
        h.chargingStation.kickOutbox()
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        h.station.update(1) { $0.status = .suspendedEV }
        h.station.emit(.statusChanged(connectorId: 1, .suspendedEV, nil, atUnixMs: h.clock.now()))
        let reservedId = Int.min + 1
        #expect(await settle { h.station.requests.contains(.showMessage(DisplayMessage(
            id: reservedId, priority: .normalCycle, text: "Nu 1,20 EUR", transactionId: "tx-9"))) })
        _ = session
    }
    /// TotalCostFallbackMessage: the end of a transaction whose total the station cannot show
    /// (the Ended answer has none, or the station is offline as it ends) shows it instead, and a
    /// total that comes later replaces it.
    @Test func theTotalCostFallbackIsShownWhenTheEndHasNoTotal() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let fallback = [VariableKey(component: "TariffCostCtrlr", variable: "TotalCostFallbackMessage"): "Cost: see your invoice"]
        let h = try await Harness.accepted(csms: Self.csms(totalCost: nil), storage: storage,
                                           deviceModel: try Self.model(storage, fallback))
        func fallbackShown(_ id: String) -> Bool {
            Self.prices(h).contains(.finalCost(FinalCost(sessionId: id, cost: nil, text: LocalizedText("Cost: see your invoice"))))
        }
        // Online, the Ended answer carries no totalCost.
        let answered = try h.sessionStarted("tx-a")
        h.chargingStation.kickOutbox()
        try h.sessionEnded(answered)
        #expect(await settle { fallbackShown("tx-a") })

        // Offline at the end: shown at once; the queued Ended's answer, later, brings the total.
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        let offline = try h.sessionStarted("tx-b", connector: 2)
        try h.sessionEnded(offline)
        #expect(await settle { fallbackShown("tx-b") })
        #expect(!h.csms.payloads("TransactionEvent").contains { $0["transactionInfo"]?["transactionId"] == "tx-b" })
        _ = try await h.chargingStation.handle(action: "CostUpdated", payload: ["totalCost": 2.5, "transactionId": "tx-b"]).get()
        #expect(Self.prices(h).last == .finalCost(FinalCost(sessionId: "tx-b", cost: Money(minorUnits: 250, decimals: 2),
                                                            text: LocalizedText(""))))
    }

    @Test func noTotalCostFallbackWhenItIsEmptyOrCostsAreOff() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(csms: Self.csms(totalCost: nil), storage: storage, deviceModel: try Self.model(storage))
        let session = try h.sessionStarted("tx-c")
        h.chargingStation.kickOutbox()
        try h.sessionEnded(session)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 })
        for _ in 0..<200 { await Task.yield() }
        #expect(!Self.prices(h).contains { if case .finalCost = $0 { true } else { false } })
    }
}
