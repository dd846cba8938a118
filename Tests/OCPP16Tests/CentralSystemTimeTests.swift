import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import StationPort
import Testing

/// The CSMS's currentTime goes to the station (its clock may set itself from it and correct
/// what it recorded before): from the BootNotification answer before the queue is sent, and
/// from every Heartbeat answer.
@Suite("OCPP 1.6 the CSMS's time")
struct CentralSystemTimeTests {
    static let bootTime = OCPPTimestamp.unixMs(FakeCSMS.time)

    func timeReports(_ h: Harness) -> [UInt64] {
        h.station.requests.compactMap { if case let .centralSystemTime(ms) = $0 { ms } else { nil } }
    }

    @Test func theBootAnswersTimeReachesTheStationBeforeTheStatusReportAndEachHeartbeatsToo() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(interval: 1)))
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        #expect(await settle { h.csms.payloads("StatusNotification").count >= 1 })
        let requests = h.station.requests
        let told = try #require(requests.firstIndex { if case .centralSystemTime = $0 { true } else { false } })
        // The report after the boot asks for the connectors: it comes after the time was told.
        #expect(requests[told...].contains(.connectors))
        #expect(timeReports(h) == [Self.bootTime].compactMap { $0 })

        let second = EVSEDuration.seconds(Int64(1))
        #expect(await settle { h.sleeper.requested.contains(second) })
        h.sleeper.release(second)
        #expect(await settle { h.csms.payloads("Heartbeat").count == 1 })
        #expect(await settle { timeReports(h).count == 2 })
    }
}
