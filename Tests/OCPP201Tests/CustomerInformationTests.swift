import OCPP201
import OCPP201Messages
import OCPPJSON
import Storage
import Testing

/// CustomerInformation (N09, N10): what the station holds for an idToken, reported after the
/// answer in NotifyCustomerInformation pages, and its cache entry cleared.
@Suite("OCPP 2.0.1 CustomerInformation (N09, N10)")
struct CustomerInformationTests {
    static func ask(_ h: Harness, _ requestId: Int, token: String?, report: Bool = true, clear: Bool = false) async throws -> JSONValue {
        var payload: JSONObject = ["requestId": .integer(Int64(requestId)), "report": .bool(report), "clear": .bool(clear)]
        if let token { payload["idToken"] = ["idToken": .string(token), "type": "ISO14443"] }
        return try await h.chargingStation.handle(action: "CustomerInformation", payload: .object(payload)).get()
    }

    static func data(_ h: Harness, _ requestId: Int) -> [String] {
        h.csms.payloads("NotifyCustomerInformation").filter { $0["requestId"] == .integer(Int64(requestId)) }
            .compactMap { $0["data"]?.stringValue }
    }

    @Test func reportsTheListTheCacheAndTheTransactionsAndClearsTheCacheEntry() async throws {
        let h = try await Harness.accepted()
        try h.storage.localList.fullUpdate(version: 3, entries: [AuthorizationRecord(idToken: "CARD1", status: .accepted, parentIdToken: "FLEET")])
        try h.storage.authorizationCache.put(AuthorizationRecord(idToken: "CARD1", status: .accepted), now: 1_767_225_600)
        let session = try h.sessionStarted("tx-1", token: "CARD1")
        try h.sessionEnded(session, meterStopWh: 1_500)

        #expect(try await Self.ask(h, 1, token: "CARD1")["status"] == "Accepted")
        #expect(await settle { !Self.data(h, 1).isEmpty })
        let text = Self.data(h, 1).joined(separator: "\n")
        #expect(text.contains("local list: Accepted") && text.contains("group FLEET"))
        #expect(text.contains("authorization cache: an entry"))
        #expect(text.contains("transaction tx-1") && text.contains("500 Wh"))

        #expect(try await Self.ask(h, 2, token: "CARD1", report: false, clear: true)["status"] == "Accepted")
        #expect(try h.storage.authorizationCache.lastUsed("CARD1") == nil, "the cache entry is gone")
        #expect(try h.storage.localList.lookup("CARD1") != nil, "the CSMS's list is kept")
        #expect(Self.data(h, 2).isEmpty, "no report asked")

        #expect(try await Self.ask(h, 3, token: "NOBODY")["status"] == "Accepted")
        #expect(await settle { Self.data(h, 3) == ["no data held for this idToken"] })
        #expect(try await Self.ask(h, 4, token: "CARD1", report: false, clear: false)["status"] == "Invalid")
        #expect(try await Self.ask(h, 5, token: nil)["status"] == "Invalid")
    }

    @Test func longReportsArePagedWithSeqNoAndTbc() {
        let lines = (0..<40).map { "transaction \($0): " + String(repeating: "x", count: 40) }
        let pages = OCPP201ChargingStation.customerPages(lines, requestId: 9, generatedAt: "2026-01-01T00:00:00Z")
        #expect(pages.count > 1)
        #expect(pages.map(\.seqNo) == Array(0..<pages.count))
        #expect(pages.dropLast().allSatisfy { $0.tbc == true } && pages.last?.tbc == nil)
        #expect(pages.allSatisfy { $0.data.count <= 512 })
        #expect(pages.map(\.data).joined(separator: "\n") == lines.joined(separator: "\n"), "nothing lost or reordered")
    }
}
