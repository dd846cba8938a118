import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Testing

@Suite("OCPP 1.6 TriggerMessage")
struct TriggerMessageTests {
    func accepted() async throws -> Harness {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        // The status report after boot is done before the trigger is asked for.
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
        return h
    }

    func trigger(_ h: Harness, _ message: String, connector: Int? = nil) async throws -> JSONValue? {
        var payload: JSONObject = ["requestedMessage": .string(message)]
        if let connector { payload["connectorId"] = .integer(Int64(connector)) }
        return try await h.chargePoint.handle(action: "TriggerMessage", payload: .object(payload)).get()["status"]
    }

    @Test func eachSupportedMessageIsAcceptedThenSent() async throws {
        let h = try await accepted()
        for (message, action) in [("BootNotification", "BootNotification"), ("Heartbeat", "Heartbeat"),
                                  ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
                                  ("FirmwareStatusNotification", "FirmwareStatusNotification")] {
            let before = h.csms.payloads(action).count
            #expect(try await trigger(h, message) == "Accepted")
            #expect(await settle { h.csms.payloads(action).count == before + 1 }, "\(message)")
        }
        #expect(h.csms.payloads("DiagnosticsStatusNotification").last?["status"] == "Idle")
        #expect(h.csms.payloads("FirmwareStatusNotification").last?["status"] == "Idle")
        #expect(await h.chargePoint.registration == .accepted)
    }

    @Test func statusNotificationForOneConnectorOrAll() async throws {
        let h = try await accepted()
        h.station.update(2) { $0.status = .preparing }
        #expect(try await trigger(h, "StatusNotification", connector: 2) == "Accepted")
        #expect(await settle { h.csms.payloads("StatusNotification").count == 4 })
        #expect(h.csms.payloads("StatusNotification").last?["connectorId"] == 2)
        #expect(h.csms.payloads("StatusNotification").last?["status"] == "Preparing")
        #expect(try await trigger(h, "StatusNotification") == "Accepted")
        #expect(await settle { h.csms.payloads("StatusNotification").count == 7 })
        let ids = h.csms.payloads("StatusNotification").suffix(3).compactMap { p -> Int64? in
            if case let .integer(i)? = p["connectorId"] { return i }
            return nil
        }
        #expect(ids == [0, 1, 2])
    }

    @Test func meterValuesCarryTheTriggerContextAndTheTransaction() async throws {
        let h = try await accepted()
        let session = try h.beginSession("s1", connector: 1)
        h.station.update(1) { $0.session = session; $0.energyWh = 1_234 }
        try h.sessionStarted(session)
        #expect(await settle { h.chargePoint.transactions.transactionId(ofSession: "s1") != nil })
        #expect(try await trigger(h, "MeterValues", connector: 1) == "Accepted")
        #expect(await settle { h.csms.payloads("MeterValues").count == 1 })
        let sent = try #require(h.csms.payloads("MeterValues").first)
        #expect(sent["connectorId"] == 1)
        #expect(sent["transactionId"] == .integer(Int64(h.chargePoint.transactions.transactionId(ofSession: "s1") ?? -1)))
        guard case let .array(values)? = sent["meterValue"], case let .array(samples)? = values.first?["sampledValue"] else {
            Issue.record("no sampled values"); return
        }
        #expect(samples.first?["context"] == "Trigger")
        #expect(samples.first?["value"] == "1234")
    }

    @Test func badConnectorIsRejected() async throws {
        let h = try await accepted()
        #expect(try await trigger(h, "StatusNotification", connector: 5) == "Rejected")
        #expect(try await trigger(h, "MeterValues", connector: 0) == "Rejected")
        #expect(try await trigger(h, "Heartbeat", connector: -1) == "Rejected")
        let unknown = await h.chargePoint.handle(action: "TriggerMessage", payload: ["requestedMessage": "SignCertificate"])
        if case .failure(let e) = unknown { #expect(e.code == .propertyConstraintViolation || e.code == .typeConstraintViolation || e.code == .formationViolation) } else {
            Issue.record("an unknown requestedMessage must not be accepted")
        }
    }
}
