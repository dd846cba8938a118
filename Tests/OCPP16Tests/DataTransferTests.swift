import ChargingCore
import OCPP16
import OCPPJSON
import StationPort
import Testing

/// DataTransfer vendorId `org.swiftevse`, messageId `SetChargingMode`: the CSMS switches energy
/// management's charging mode through the station port.
@Suite("OCPP 1.6 DataTransfer: SwiftEVSE extensions")
struct DataTransferTests {
    func status(_ h: Harness, _ payload: JSONValue) async throws -> JSONValue? {
        try await h.chargePoint.handle(action: "DataTransfer", payload: payload).get()["status"]
    }

    @Test func setChargingModeReachesTheStation() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "SetChargingMode", "data": "pv"]) == "Accepted")
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "SetChargingMode", "data": "{\"mode\":\"min+pv\"}"]) == "Accepted")
        #expect(h.station.commands.contains(.setChargingMode(.pv)))
        #expect(h.station.commands.contains(.setChargingMode(.minPlusPV)))
    }

    @Test func badDataAndUnknownMessagesChangeNothing() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "SetChargingMode", "data": "turbo"]) == "Rejected")
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "SetChargingMode"]) == "Rejected")
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "SetChargingMode", "data": "{\"mode\":3}"]) == "Rejected")
        #expect(try await status(h, ["vendorId": "org.swiftevse", "messageId": "Turbo", "data": "pv"]) == "UnknownMessageId")
        #expect(try await status(h, ["vendorId": "com.example", "messageId": "SetChargingMode", "data": "pv"]) == "UnknownVendorId")
        #expect(!h.station.commands.contains { if case .setChargingMode = $0 { return true } else { return false } })
    }
}
