import ChargingCore
import OCPP201
import OCPP201DeviceModel
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

/// Block O: SetDisplayMessage answering every status, GetDisplayMessages with its pages,
/// ClearDisplayMessage, the DisplayMessageCtrlr variables, storage across restarts, expiry and
/// messages bound to a transaction.
@Suite struct DisplayMessageTests {
    static let layout = StationLayout(evses: [EVSELayout(evseId: 1), EVSELayout(evseId: 2)], displayCanShowQRCode: true,
                                      displayLanguage: "de")

    static func model(_ storage: StationStorage) throws -> DeviceModel {
        try DeviceModel(store: storage.deviceModel, layout: layout,
                        identity: StationIdentity(vendorName: "SwiftEVSE", model: "Test", firmwareVersion: "1.0"))
    }

    static func harness(_ storage: StationStorage? = nil) async throws -> Harness {
        let storage = try storage ?? StationStorage(database: Database.inMemory())
        return try await Harness.accepted(storage: storage, deviceModel: try model(storage))
    }

    static func message(_ id: Int, priority: String = "NormalCycle", state: String? = nil, format: String = "UTF8",
                        content: String = "Hallo", start: String? = nil, end: String? = nil,
                        transactionId: String? = nil, language: String? = nil) -> JSONValue {
        var info: JSONObject = ["id": .integer(Int64(id)), "priority": .string(priority),
                                "message": ["format": .string(format), "content": .string(content)]]
        if let state { info["state"] = .string(state) }
        if let start { info["startDateTime"] = .string(start) }
        if let end { info["endDateTime"] = .string(end) }
        if let transactionId { info["transactionId"] = .string(transactionId) }
        if let language, case var .object(m)? = info["message"] {
            m["language"] = .string(language)
            info["message"] = .object(m)
        }
        return ["message": .object(info)]
    }

    static func set(_ h: Harness, _ payload: JSONValue) async throws -> String? {
        try await h.chargingStation.handle(action: "SetDisplayMessage", payload: payload).get()["status"]?.stringValue
    }

    static func shown(_ h: Harness) -> [DisplayMessage] {
        h.station.requests.compactMap { if case let .showMessage(m) = $0 { return m } else { return nil } }
    }

    static func removed(_ h: Harness) -> [Int] {
        h.station.requests.compactMap { if case let .removeMessage(id) = $0 { return id } else { return nil } }
    }

    @Test func everyStatusOfSetDisplayMessageAndARefusedMessageChangesNothing() async throws {
        let h = try await Self.harness()
        let session = try h.sessionStarted("tx-1")
        #expect(try await Self.set(h, Self.message(1, priority: "AlwaysFront", state: "Charging", content: "Grüße",
                                                   end: "2026-01-01T01:00:00Z", transactionId: session.id,
                                                   language: "de")) == "Accepted")
        #expect(try await Self.set(h, Self.message(2, format: "HTML", content: "<b>x</b>")) == "NotSupportedMessageFormat")
        #expect(try await Self.set(h, Self.message(3, format: "URI", content: "https://example.com")) == "NotSupportedMessageFormat")
        #expect(try await Self.set(h, Self.message(4, format: "Markdown")) == "NotSupportedMessageFormat")
        #expect(try await Self.set(h, Self.message(5, priority: "Urgent")) == "NotSupportedPriority")
        #expect(try await Self.set(h, Self.message(6, state: "Suspended")) == "NotSupportedState")
        #expect(try await Self.set(h, Self.message(7, transactionId: "no-such-tx")) == "UnknownTransaction")
        #expect(try await Self.set(h, Self.message(8, start: "2026-01-01T02:00:00Z", end: "2026-01-01T01:00:00Z")) == "Rejected")
        #expect(try await Self.set(h, Self.message(9, end: "2025-12-31T23:00:00Z")) == "Rejected", "already over")
        #expect(try await Self.set(h, Self.message(10, format: "ASCII", content: "Grüße")) == "Rejected", "not ASCII")
        let answer = try await h.chargingStation.handle(action: "SetDisplayMessage", payload: Self.message(11, format: "HTML")).get()
        #expect(answer["statusInfo"]?["reasonCode"] != nil, "a refusal says why")

        #expect(try h.storage.displayMessages.all().map(\.id) == [1])
        let shown = Self.shown(h)
        #expect(shown == [DisplayMessage(id: 1, priority: .alwaysFront, text: "Grüße", endsAt: 1_767_229_200,
                                         states: [.charging, .suspended], transactionId: "tx-1", language: "de")])
    }

    @Test func theCountLimitRejectsTheNextMessageButAHeldIdIsReplaced() async throws {
        let h = try await Self.harness()
        let limit = DisplayMessageCapacity.messages
        for id in 1...limit { #expect(try await Self.set(h, Self.message(id)) == "Accepted") }
        #expect(try await Self.set(h, Self.message(limit + 1)) == "Rejected")
        #expect(try await Self.set(h, Self.message(3, priority: "InFront", content: "neu")) == "Accepted")
        #expect(try h.storage.displayMessages.count() == limit)
        #expect(h.chargingStation.deviceModel?.value(.displayMessageCount) == String(limit))
    }

    @Test func theControllerVariablesAreReadableAndEnabledFalseRejects() async throws {
        let h = try await Self.harness()
        let names = ["Available", "Enabled", "DisplayMessages", "SupportedFormats", "SupportedPriorities",
                     "PersonalMessageSize", "QRCodeDisplayCapable", "Language"]
        let answer = try await h.chargingStation.handle(action: "GetVariables", payload: ["getVariableData": .array(names.map {
            ["component": ["name": "DisplayMessageCtrlr"], "variable": ["name": .string($0)]]
        })]).get()
        let values = (0..<names.count).map { answer["getVariableResult"]?[$0]?["attributeValue"]?.stringValue }
        #expect(values == ["true", "true", "0", "ASCII,UTF8", "AlwaysFront,InFront,NormalCycle",
                           String(DisplayMessageCapacity.personalMessageSize), "true", "de"])
        let off = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "false", "component": ["name": "DisplayMessageCtrlr"], "variable": ["name": "Enabled"]]]]).get()
        #expect(off["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(await settle { await !h.chargingStation.settings.displayMessagesEnabled })
        #expect(try await Self.set(h, Self.message(1)) == "Rejected")
        #expect(try h.storage.displayMessages.count() == 0)
    }

    @Test func theLanguageVariableIsTheStationsLanguageOnTheGlass() async throws {
        let h = try await Self.harness()
        #expect(h.station.requests.contains(.showPrice(.stationLanguage("de"))), "the layout's language at start")
        let set = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "fr", "component": ["name": "DisplayMessageCtrlr"], "variable": ["name": "Language"]],
            ["attributeValue": "xx", "component": ["name": "DisplayMessageCtrlr"], "variable": ["name": "Language"]]]]).get()
        #expect(set["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(set["setVariableResult"]?[1]?["attributeStatus"] == "Rejected", "a language without screens")
        #expect(await settle { h.station.requests.contains(.showPrice(.stationLanguage("fr"))) })
    }

    @Test func getDisplayMessagesFiltersAndSendsPagesWithTbc() async throws {
        let h = try await Self.harness()
        for id in 1...23 { _ = try await Self.set(h, Self.message(id, state: id <= 2 ? "Faulted" : nil)) }
        _ = try await Self.set(h, Self.message(30, priority: "InFront"))
        let all = try await h.chargingStation.handle(action: "GetDisplayMessages", payload: ["requestId": 5]).get()
        #expect(all["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("NotifyDisplayMessages").count == 3 })
        let pages = h.csms.payloads("NotifyDisplayMessages")
        #expect(pages.map { $0["tbc"] } == [.bool(true), .bool(true), .bool(false)])
        #expect(pages.allSatisfy { $0["requestId"] == .integer(5) })
        #expect(pages.map { $0["messageInfo"]?.arrayValue?.count } == [10, 10, 4])
        #expect(pages[0]["messageInfo"]?[0]?["message"]?["content"] == "Hallo")

        let faulted = try await h.chargingStation.handle(action: "GetDisplayMessages", payload: ["requestId": 6, "state": "Faulted"]).get()
        #expect(faulted["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("NotifyDisplayMessages").count == 4 })
        #expect(h.csms.payloads("NotifyDisplayMessages").last?["messageInfo"]?.arrayValue?.compactMap { $0["id"] }
            == [.integer(1), .integer(2)])
        let byIdAndPriority = try await h.chargingStation.handle(action: "GetDisplayMessages", payload: [
            "requestId": 7, "id": [30, 5], "priority": "InFront"]).get()
        #expect(byIdAndPriority["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("NotifyDisplayMessages").count == 5 })
        #expect(h.csms.payloads("NotifyDisplayMessages").last?["messageInfo"]?[0]?["id"] == .integer(30))
        let none = try await h.chargingStation.handle(action: "GetDisplayMessages", payload: ["requestId": 8, "id": [99]]).get()
        #expect(none["status"] == "Unknown")
    }

    @Test func clearDisplayMessageIsAcceptedOnceThenUnknown() async throws {
        let h = try await Self.harness()
        _ = try await Self.set(h, Self.message(4))
        #expect(try await h.chargingStation.handle(action: "ClearDisplayMessage", payload: ["id": 4]).get()["status"] == "Accepted")
        #expect(try await h.chargingStation.handle(action: "ClearDisplayMessage", payload: ["id": 4]).get()["status"] == "Unknown")
        #expect(Self.removed(h) == [4])
        #expect(try h.storage.displayMessages.count() == 0)
    }

    @Test func aMessageBoundToATransactionGoesWhenItEndsAndExpiredOnesGo() async throws {
        let h = try await Self.harness()
        let session = try h.sessionStarted("tx-9")
        _ = try await Self.set(h, Self.message(1, transactionId: session.id))
        _ = try await Self.set(h, Self.message(2, end: "2026-01-01T00:01:00Z"))
        _ = try await Self.set(h, Self.message(3))
        try h.sessionEnded(session)
        #expect(await settle { Self.removed(h) == [1] })
        h.clock.advance(seconds: 60)
        let answer = try await h.chargingStation.handle(action: "GetDisplayMessages", payload: ["requestId": 1]).get()
        #expect(answer["status"] == "Accepted")
        #expect(Self.removed(h) == [1, 2])
        #expect(try h.storage.displayMessages.all().map(\.id) == [3])
    }

    @Test func storedMessagesReachTheStationAgainAfterARestart() async throws {
        // The same database under a new adapter (the store's own test reopens the file).
        let storage = try StationStorage(database: Database.inMemory())
        do {
            let h = try await Self.harness(storage)
            _ = try await Self.set(h, Self.message(1, priority: "AlwaysFront", content: "Wartung"))
            let session = try h.sessionStarted("tx-old")
            _ = try await Self.set(h, Self.message(2, transactionId: session.id))
            // The station stops with the transaction still open in the journal, then it ends
            // while the adapter is down (a restart ends it as PowerLoss).
            try h.storage.journal.atomically { w in
                _ = try w.endSession("tx-old", stopReason: "PowerLoss", meterStopWh: 1_000, atMs: 1)
            }
            await h.chargingStation.stop()
        }
        let h = try await Self.harness(storage)
        #expect(Self.shown(h).map(\.id) == [1])
        #expect(Self.shown(h).first?.priority == .alwaysFront)
        #expect(try h.storage.displayMessages.all().map(\.id) == [1])
        #expect(h.chargingStation.deviceModel?.value(.displayMessageCount) == "1")
    }
}
