import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Testing
import TestSupport

@Suite("OCPP 1.6 operation registry")
struct OperationRegistryTests {
    /// What the CSMS may call (DataTransfer goes both ways).
    static let inbound = Set(OCPP16Action.allCases.filter { $0.direction != .chargePointToCentralSystem })
    /// Answered only where the file services run.
    static let fileOperations: Set<OCPP16Action> = [.updateFirmware, .signedUpdateFirmware, .getDiagnostics, .getLog]

    func chargePoint(files: Bool) throws -> OCPP16ChargePoint {
        let services = files
            ? OCPP16FileServices(transfer: FakeFileTransfer(), firmwareDirectory: "/nonexistent/firmware",
                                 uploadDirectory: "/nonexistent/uploads")
            : nil
        return OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test"), sender: FakeCSMS(),
                                 station: FakeStation(), storage: try StationStorage(database: Database.inMemory()),
                                 numberOfConnectors: 2, unixMs: { 0 }, files: services)
    }

    @Test func everyInboundActionHasExactlyOneHandler() throws {
        let operations = try chargePoint(files: true).operations
        #expect(operations.actions == Self.inbound)
        for action in Self.inbound {
            #expect(operations.registrations[action] == 1, "\(action.rawValue)")
        }
        #expect(operations.registrations.keys.allSatisfy { Self.inbound.contains($0) })
    }

    @Test func withoutFileServicesTheirOperationsAreNotRegistered() throws {
        let operations = try chargePoint(files: false).operations
        #expect(operations.actions == Self.inbound.subtracting(Self.fileOperations))
        #expect(operations.registrations.values.allSatisfy { $0 == 1 })
    }

    @Test func unknownAndUnregisteredActionsAreNotImplemented() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        func code(_ action: String, _ payload: JSONValue) async -> OCPPErrorCode? {
            if case .failure(let e) = await h.chargePoint.handle(action: action, payload: payload) { return e.code }
            return nil
        }
        #expect(await code("Dance", [:]) == .notImplemented, "not an OCPP 1.6 action")
        #expect(await code("Heartbeat", [:]) == .notImplemented, "the charge point's own message, well formed")
        #expect(await code("StatusNotification", ["connectorId": 1, "errorCode": "NoError", "status": "Available"]) == .notImplemented)
        #expect(await code("GetLog", ["logType": "DiagnosticsLog", "requestId": 1, "log": ["remoteLocation": "ftp://csms.example/logs"]])
            == .notImplemented, "no file services here")
        #expect(await code("UpdateFirmware", ["location": "ftp://csms.example/fw.bin", "retrieveDate": "2026-01-01T00:00:00Z"])
            == .notImplemented, "no file services here")
        #expect(await code("GetConfiguration", [:]) == nil, "a registered one answers")
    }
}
