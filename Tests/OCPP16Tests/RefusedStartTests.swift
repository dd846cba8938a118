import OCPP16
import OCPP16Messages
import OCPPJSON
import StationPort
import Testing

/// A StartTransaction answered Blocked or Invalid: the session is stopped (DeAuthorized), or —
/// StopTransactionOnInvalidId false — kept open without energy (OCPP 1.6 §9.1.32).
@Suite("OCPP 1.6 a start the CSMS refuses")
struct RefusedStartTests {
    func harness(status: AuthorizationStatus) async throws -> Harness {
        let accept = FakeCSMS.acceptEverything()
        let h = try Harness(csms: FakeCSMS(answer: { action, payload in
            guard action == "StartTransaction" else { return accept(action, payload) }
            return .success(StartTransactionResponse(idTagInfo: IdTagInfo(status: status), transactionId: 55).toJSON())
        }))
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        return h
    }

    @Test(arguments: [AuthorizationStatus.blocked, .invalid])
    func stoppedWhenStopTransactionOnInvalidIdIsTrue(status: AuthorizationStatus) async throws {
        let h = try await harness(status: status)
        try h.sessionStarted(try h.beginSession("s1", connector: 2))
        let stop = StationRequest.stopSession(connectorId: 2, sessionId: "s1", reason: .deAuthorized)
        #expect(await settle { h.station.commands.contains(stop) })
        #expect(!h.station.commands.contains { if case .deauthorizeSession = $0 { true } else { false } })
    }

    @Test func keptOpenWithoutEnergyWhenStopTransactionOnInvalidIdIsFalse() async throws {
        let h = try await harness(status: .blocked)
        #expect(try await h.chargePoint.handle(action: "ChangeConfiguration",
                                               payload: ["key": "StopTransactionOnInvalidId", "value": "false"]).get()["status"] == "Accepted")
        try h.sessionStarted(try h.beginSession("s1", connector: 1))
        #expect(await settle { h.station.commands.contains(.deauthorizeSession(connectorId: 1, sessionId: "s1")) })
        #expect(!h.station.commands.contains { if case .stopSession = $0 { true } else { false } })
    }

    @Test func maxEnergyOnInvalidIdIsTheAllowanceOfAKeptTransaction() async throws {
        let h = try await harness(status: .invalid)
        for (key, value) in [("StopTransactionOnInvalidId", "false"), ("MaxEnergyOnInvalidId", "1200")] {
            #expect(try await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": .string(key), "value": .string(value)])
                .get()["status"] == "Accepted")
        }
        try h.sessionStarted(try h.beginSession("s1", connector: 1))
        #expect(await settle { h.station.commands.contains(.deauthorizeSession(connectorId: 1, sessionId: "s1", energyAllowanceWh: 1_200)) })
    }

    @Test func anAcceptedStartAsksNothingOfTheSession() async throws {
        let h = try await harness(status: .accepted)
        try h.sessionStarted(try h.beginSession("s1", connector: 1))
        #expect(await settle { h.chargePoint.transactions.transactionId(ofSession: "s1") == 55 })
        #expect(!h.station.commands.contains { if case .stopSession = $0 { true } else if case .deauthorizeSession = $0 { true } else { false } })
    }
}
