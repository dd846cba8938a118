import OCPP201
import OCPPJSON
import StationPort
import Testing

/// The CSMS's currentTime goes to the station (its clock may set itself from it and correct
/// what it recorded before) from the BootNotification answer, before the report after the boot.
@Suite("OCPP 2.0.1 the CSMS's time")
struct CentralSystemTime201Tests {
    @Test func theBootAnswersTimeReachesTheStationBeforeTheStatusReport() async throws {
        let h = try await Harness.accepted()
        #expect(await settle { h.csms.payloads("StatusNotification").count >= 1 })
        let requests = h.station.requests
        let told = try #require(requests.firstIndex { if case .centralSystemTime = $0 { true } else { false } })
        #expect(requests[told] == .centralSystemTime(unixMs: try #require(OCPPTimestamp.unixMs(FakeCSMS.time))))
        #expect(requests[told...].contains(.connectors), "the report after the boot asks for the connectors after")
    }
}
