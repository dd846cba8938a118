import StationPort
import ChargingCore
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Testing

/// Every idTagInfo the CSMS gives reaches the station's authorization cache with its expiry:
/// offline, a card whose cached entry expired must be refused.
@Suite("OCPP 1.6 idTagInfo expiry")
struct IdTagInfoExpiryTests {
    static let inAnHour = "2026-01-01T01:00:00Z"  // the harness clock is 2026-01-01T00:00:00Z
    static let yesterday = "2025-12-31T00:00:00Z"

    func harness() async throws -> Harness {
        let others = FakeCSMS.acceptEverything()
        let csms = FakeCSMS(answer: { action, payload in
            switch action {
            case "Authorize":
                let info = IdTagInfo(expiryDate: Self.inAnHour, parentIdTag: "FLEET", status: .accepted)
                return .success(AuthorizeResponse(idTagInfo: info).toJSON())
            case "StartTransaction":
                let info = IdTagInfo(expiryDate: Self.yesterday, status: .accepted)
                return .success(StartTransactionResponse(idTagInfo: info, transactionId: 7).toJSON())
            default:
                return others(action, payload)
            }
        })
        let h = try Harness(csms: csms)
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        return h
    }

    @Test func theAuthorizeAnswersExpiryGoesToTheStation() async throws {
        let h = try await harness()
        h.chargePoint.stationEvent(.authorizationNeeded(IdToken("CARD1")))
        #expect(await settle { !h.station.commands.isEmpty })
        let expected = AuthorizationInfo(status: .accepted, parentIdToken: IdToken("FLEET", kind: .central),
                                         expiresAtUnixMs: 1_767_229_200_000)
        #expect(h.station.commands == [.authorizationResult(IdToken("CARD1"), expected)])
    }

    @Test func theStartTransactionAnswersIdTagInfoIsLearnedForTheCache() async throws {
        let h = try await harness()
        let session = try h.beginSession("s1", connector: 1, token: "CARD1")
        h.station.update(1) { $0.session = session }
        try h.sessionStarted(session)
        let learned = StationRequest.authorizationLearned(
            IdToken("CARD1"), AuthorizationInfo(status: .accepted, expiresAtUnixMs: 1_767_139_200_000))
        #expect(await settle { h.station.commands.contains(learned) })
        #expect(h.chargePoint.transactions.transactionId(ofSession: "s1") == 7)
        // Accepted, but the date is past: the station judges it expired when the card comes back.
        #expect(AuthorizationInfo(status: .accepted, expiresAtUnixMs: 1_767_139_200_000)
            .effectiveStatus(atUnixMs: h.clock.now()) == .expired)
    }
}
