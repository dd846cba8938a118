import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization
import Testing

@Suite("OCPP 1.6 registration")
struct RegistrationTests {
    @Test func nothingButBootUntilAcceptedThenStatusOfConnectorZeroAndEveryConnector() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.station.update(1) { $0.status = .preparing }
        h.chargePoint.stationEvent(.statusChanged(connectorId: 1, .preparing, nil, atUnixMs: 0))
        #expect(await settle { await h.chargePoint.registration == .notRegistered })
        #expect(h.csms.calls.isEmpty, "offline: nothing is sent")
        h.chargePoint.connectionUp()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
        #expect(h.csms.actions.first == "BootNotification")
        let statuses = h.csms.payloads("StatusNotification")
        #expect(statuses.map { $0["connectorId"] } == [.integer(0), .integer(1), .integer(2)])
        #expect(statuses[1]["status"] == "Preparing")
        #expect(statuses[2]["status"] == "Available")
        #expect(await h.chargePoint.registration == .accepted)
        #expect(h.csms.payloads("BootNotification")[0]["chargePointVendor"] == "SwiftEVSE")
    }

    @Test func pendingWaitsTheIntervalThenBootsAgain() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(boot: .pending, interval: 7)))
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(7))) })
        #expect(await h.chargePoint.registration == .pending)
        #expect(h.csms.actions == ["BootNotification"])
        h.csms.setAnswer(FakeCSMS.acceptEverything(boot: .accepted))
        h.sleeper.release(.seconds(Int64(7)))
        #expect(await settle { await h.chargePoint.registration == .accepted })
        #expect(h.csms.actions.filter { $0 == "BootNotification" }.count == 2)
    }

    @Test func rejectedChargePointAnswersNoCalls() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(boot: .rejected, interval: 5)))
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .rejected })
        let result = await h.chargePoint.handle(action: "GetConfiguration", payload: .object(JSONObject()))
        #expect(throws: OCPPCallError.self) { try result.get() }
        #expect(h.csms.payloads("StatusNotification").isEmpty)
    }
}

@Suite("OCPP 1.6 inbound operations")
struct OperationTests {
    func accepted() async throws -> Harness {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        return h
    }

    func error(_ result: Result<JSONValue, OCPPCallError>) -> OCPPErrorCode? {
        if case .failure(let e) = result { return e.code }
        return nil
    }

    @Test func unknownActionIsNotImplementedAndSchemaViolationsGetTheirCode() async throws {
        let h = try await accepted()
        #expect(error(await h.chargePoint.handle(action: "Dance", payload: [:])) == .notImplemented)
        #expect(error(await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": 1, "value": "x"])) == .typeConstraintViolation)
        #expect(error(await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "x"])) == .occurrenceConstraintViolation)
        #expect(error(await h.chargePoint.handle(action: "Reset", payload: ["type": "Later"])) == .propertyConstraintViolation)
        #expect(error(await h.chargePoint.handle(action: "ClearCache", payload: ["x": 1])) == .formationViolation)
        #expect(error(await h.chargePoint.handle(action: "Heartbeat", payload: "text")) == .formationViolation)
    }

    @Test func changeConfigurationValidatesPersistsAndReadsBack() async throws {
        let h = try await accepted()
        func change(_ key: String, _ value: String) async -> JSONValue? {
            try? await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": .string(key), "value": .string(value)]).get()["status"]
        }
        #expect(await change("MeterValueSampleInterval", "15") == "Accepted")
        #expect(await change("MeterValueSampleInterval", "-1") == "Rejected")
        #expect(await change("MeterValueSampleInterval", "often") == "Rejected")
        #expect(await change("NumberOfConnectors", "4") == "Rejected")
        #expect(await change("Frobnicate", "1") == "NotSupported")
        #expect(await change("StopTransactionOnEVSideDisconnect", "FALSE") == "Accepted", "applies at once")
        #expect(h.station.requests.last == .sessionRules(SessionRules(connectionTimeout: .seconds(Int64(60)), stopOnEVSideDisconnect: false,
                                                                      unlockOnEVSideDisconnect: true)))
        #expect(await change("StopTransactionOnEVSideDisconnect", "false") == "Accepted", "the value it already has")
        #expect(await change("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import") == "Accepted")
        #expect(await change("MeterValuesSampledData", "Energy.Banana") == "Rejected")

        let answer = try await h.chargePoint.handle(action: "GetConfiguration", payload: [
            "key": ["MeterValueSampleInterval", "StopTransactionOnEVSideDisconnect", "NumberOfConnectors", "Nope"],
        ]).get()
        let response = try GetConfigurationResponse(json: answer)
        #expect(response.configurationKey?.map(\.value) == ["15", "false", "2"])
        #expect(response.configurationKey?.map(\.readonly) == [false, false, true])
        #expect(response.unknownKey == ["Nope"])
        // On disk: a charge point built later on the same storage sees the values.
        let later = ConfigurationService(store: h.storage.config, numberOfConnectors: 2)
        #expect(later.value("MeterValueSampleInterval") == "15")
        #expect(later.measurands("MeterValuesSampledData") == [.energyActiveImportRegister, .powerActiveImport])
    }

    @Test func getConfigurationWithoutKeysListsEveryKey() async throws {
        let h = try await accepted()
        let response = try GetConfigurationResponse(json: try await h.chargePoint.handle(action: "GetConfiguration", payload: [:]).get())
        let names = Set(response.configurationKey?.map(\.key) ?? [])
        #expect(names.isSuperset(of: ["HeartbeatInterval", "ConnectionTimeOut", "TransactionMessageAttempts",
                                      "TransactionMessageRetryInterval", "SupportedFeatureProfiles", "AuthorizeRemoteTxRequests"]))
        #expect(response.unknownKey == nil)
    }

    @Test func remoteStartPicksAFreeConnectorAndRefusesABusyOne() async throws {
        let h = try await accepted()
        let first = try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: ["idTag": "R1"]).get()
        #expect(first["status"] == "Accepted")
        #expect(h.station.commands.last == .remoteStart(connectorId: nil, idToken: IdToken("R1", kind: .central), parentIdToken: nil))
        h.station.update(1) { $0.session = Session(id: "s1", connectorId: 1, idToken: IdToken("R1"), startReason: .remote,
                                                   meterStartWh: 0, startedAtUnixMs: 0) }
        let busy = try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: ["idTag": "R2", "connectorId": 1]).get()
        #expect(busy["status"] == "Rejected")
        let none = try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: ["idTag": "R2", "connectorId": 9]).get()
        #expect(none["status"] == "Rejected")
    }

    @Test func changeAvailabilityIsScheduledWhileASessionRuns() async throws {
        let h = try await accepted()
        h.station.update(2) { $0.session = Session(id: "s2", connectorId: 2, idToken: IdToken("A"), startReason: .local,
                                                   meterStartWh: 0, startedAtUnixMs: 0) }
        let one = try await h.chargePoint.handle(action: "ChangeAvailability", payload: ["connectorId": 1, "type": "Inoperative"]).get()
        #expect(one["status"] == "Accepted")
        let all = try await h.chargePoint.handle(action: "ChangeAvailability", payload: ["connectorId": 0, "type": "Inoperative"]).get()
        #expect(all["status"] == "Scheduled")
        let missing = try await h.chargePoint.handle(action: "ChangeAvailability", payload: ["connectorId": 7, "type": "Operative"]).get()
        #expect(missing["status"] == "Rejected")
        #expect(h.station.commands.filter { if case .changeAvailability = $0 { true } else { false } }.count == 3)
    }

    @Test func resetEndsSessionsFirstThenRestarts() async throws {
        let h = try await accepted()
        h.station.update(1) { $0.session = Session(id: "s1", connectorId: 1, idToken: IdToken("A"), startReason: .local,
                                                   meterStartWh: 0, startedAtUnixMs: 0) }
        let answer = try await h.chargePoint.handle(action: "Reset", payload: ["type": "Soft"]).get()
        #expect(answer["status"] == "Accepted")
        #expect(await settle { h.station.commands.contains(.stopAllSessions(reason: .softReset)) })
        h.station.update(1) { $0.session = nil }
        #expect(!h.station.commands.contains(.restart(hard: false)))
        #expect(await settle { h.sleeper.requested.contains(.milliseconds(Int64(200))) })
        h.sleeper.release(.milliseconds(Int64(200)))
        #expect(await settle { h.station.commands.last == .restart(hard: false) })
    }

    @Test func hardResetEndsSessionsAndRestartsWithoutSendingTheirStops() async throws {
        let h = try await accepted()
        var session = try h.beginSession("s1")
        try h.sessionStarted(session)
        #expect(await settle { h.csms.payloads("StartTransaction").count == 1 })
        h.station.update(1) { $0.session = session }
        let answer = try await h.chargePoint.handle(action: "Reset", payload: ["type": "Hard"]).get()
        #expect(answer["status"] == "Accepted")
        #expect(await settle { h.station.commands.contains(.stopAllSessions(reason: .hardReset)) })
        // The station ends the session: its StopTransaction is queued on disk but held.
        session.stopReason = .hardReset
        session.meterStopWh = 1_010
        h.station.update(1) { $0.session = nil }
        try h.sessionEnded(session)
        h.chargePoint.kickOutbox()
        #expect(await settle { h.sleeper.requested.contains(.milliseconds(Int64(200))) })
        h.sleeper.release(.milliseconds(Int64(200)))
        #expect(await settle { h.station.commands.last == .restart(hard: true) })
        #expect(h.csms.payloads("StopTransaction").isEmpty, "sent after the restart, not before")
        #expect(try h.storage.journal.pending(limit: 10).map(\.kind).contains("StopTransaction"))
        #expect(try h.storage.securityLog.recent(limit: 5).contains { $0.kind == "ResetOrReboot" && $0.detail == "Hard reset by the Central System" })
        let again = try await h.chargePoint.handle(action: "Reset", payload: ["type": "Soft"]).get()
        #expect(again["status"] == "Rejected", "one reset at a time")
    }

    @Test func dataTransferClearCacheUnlockAndRemoteStop() async throws {
        let h = try await accepted()
        #expect(try await h.chargePoint.handle(action: "DataTransfer", payload: ["vendorId": "x"]).get()["status"] == "UnknownVendorId")
        #expect(try await h.chargePoint.handle(action: "ClearCache", payload: [:]).get()["status"] == "Accepted")
        #expect(h.station.commands.contains(.clearAuthorizationCache))
        #expect(try await h.chargePoint.handle(action: "UnlockConnector", payload: ["connectorId": 2]).get()["status"] == "Unlocked")
        #expect(h.station.unlocked.locked { $0 } == [2])
        h.station.unlockOutcome.locked { $0 = .unlockFailed }
        #expect(try await h.chargePoint.handle(action: "UnlockConnector", payload: ["connectorId": 1]).get()["status"] == "UnlockFailed")
        h.station.unlockOutcome.locked { $0 = .notSupported }
        #expect(try await h.chargePoint.handle(action: "UnlockConnector", payload: ["connectorId": 1]).get()["status"] == "NotSupported",
                "a tethered cable has no lock")
        #expect(try await h.chargePoint.handle(action: "UnlockConnector", payload: ["connectorId": 5]).get()["status"] == "NotSupported")
        #expect(try await h.chargePoint.handle(action: "UnlockConnector", payload: ["connectorId": 0]).get()["status"] == "NotSupported")
        #expect(h.station.unlocked.locked { $0 } == [2, 1, 1, 5], "the station answers for connectors it does not have; 0 is no connector")
        #expect(try await h.chargePoint.handle(action: "RemoteStopTransaction", payload: ["transactionId": 5]).get()["status"] == "Rejected")
    }
}

@Suite("OCPP 1.6 transaction outbox")
struct TransactionOutboxTests {
    @Test func offlineSessionIsQueuedOnDiskThenDeliveredInOrderWithTheMappedId() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        var session = try h.beginSession("s1", meterStartWh: 1_234.4)
        try h.sessionStarted(session)
        session.stopReason = .evDisconnected
        session.meterStopWh = 5_678.6
        session.stoppedAtUnixMs = session.startedAtUnixMs + 60_000
        try h.sessionEnded(session)
        // On disk before anything is sent, and nothing is sent while offline.
        #expect(try h.storage.journal.pendingCount() == 2)
        #expect(h.csms.calls.isEmpty)

        h.chargePoint.connectionUp()
        #expect(await settle { h.csms.payloads("StopTransaction").count == 1 })
        let order = h.csms.actions.filter { $0.hasSuffix("Transaction") }
        #expect(order == ["StartTransaction", "StopTransaction"])
        let start = h.csms.payloads("StartTransaction")[0]
        #expect(start["meterStart"] == 1_234)
        #expect(start["idTag"] == "CARD1")
        #expect(start["transactionId"] == nil)
        let stop = h.csms.payloads("StopTransaction")[0]
        #expect(stop["transactionId"] == 101)
        #expect(stop["meterStop"] == 5_679)
        #expect(stop["reason"] == "EVDisconnected")
        #expect(await settle { (try? h.storage.journal.pendingCount()) == 0 })
        #expect(try h.storage.journal.session("s1")?.transactionId == "101")
    }

    @Test func failedMessageIsRetriedAfterTheIntervalThenDroppedAfterTheAttempts() async throws {
        let failures = FakeCSMS(answer: { action, payload in
            if action == "MeterValues" {
                return .failure(.callError(code: .internalError, spelledCode: "InternalError", description: "", details: [:]))
            }
            return FakeCSMS.acceptEverything()(action, payload)
        })
        let h = try Harness(csms: failures)
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        _ = await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "TransactionMessageRetryInterval", "value": "10"])
        _ = await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "TransactionMessageAttempts", "value": "2"])
        let session = try h.beginSession("s1")
        try h.sessionStarted(session)
        #expect(await settle { h.csms.payloads("StartTransaction").count == 1 })
        let values = MeterValuesRequest(connectorId: 1, meterValue: [.init(timestamp: FakeCSMS.time, sampledValue: [.init(value: "1")])])
        #expect(h.chargePoint.transactions.enqueueMeterValues(values, session: "s1", atUnixMs: 0))
        h.chargePoint.kickOutbox()
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(10))) })
        #expect(h.csms.payloads("MeterValues").count == 1)
        #expect(h.csms.payloads("MeterValues")[0]["transactionId"] == 101)
        h.sleeper.release(.seconds(Int64(10)))
        #expect(await settle { h.csms.payloads("MeterValues").count == 2 })
        #expect(await settle { (try? h.storage.journal.pendingCount()) == 0 }, "dropped after 2 attempts")
    }

    @Test func noMeterValuesAfterTheStopAndNoStartTwiceOnReconcile() async throws {
        let h = try Harness()
        var session = try h.beginSession("s1")
        try h.chargePoint.transactions.record(.started(session))
        h.chargePoint.transactions.reconcileWithJournal()
        #expect(try h.storage.journal.pendingCount() == 1, "a queued start is not queued again")
        session.stopReason = .local
        session.meterStopWh = 1_100
        try h.sessionEnded(session)
        let late = MeterValuesRequest(connectorId: 1, meterValue: [.init(timestamp: FakeCSMS.time, sampledValue: [.init(value: "1")])])
        #expect(!h.chargePoint.transactions.enqueueMeterValues(late, session: "s1", atUnixMs: 0))
        #expect(try h.storage.journal.pendingCount() == 2)
        // A journal of an earlier version: the session is open, its start never queued.
        _ = try h.beginSession("s2")
        h.chargePoint.transactions.reconcileWithJournal()
        #expect(try h.storage.journal.pending(limit: 10).map(\.kind) == ["StartTransaction", "StopTransaction", "StartTransaction"])
        #expect(try h.storage.journal.pending(limit: 10).map(\.sessionId) == ["s1", "s1", "s2"])
    }

    @Test func aSessionChangeThatCannotQueueItsMessageIsRolledBack() throws {
        let h = try Harness()
        let session = Session(id: "s9", connectorId: 1, idToken: IdToken("CARD9"), startReason: .local,
                              meterStartWh: 5, startedAtUnixMs: 1_767_225_600_000)
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try h.storage.journal.atomically { w in
                _ = try w.beginSession(SessionStart(id: "s9", connectorId: 1, idToken: "CARD9", state: "Charging",
                                                    startedAtMs: 1_767_225_600_000, meterStartWh: 5))
                try h.chargePoint.transactions.messagesOwed(for: .started(session), in: w)
                throw Refused()
            }
        }
        #expect(try h.storage.journal.session("s9") == nil, "neither the session…")
        #expect(try h.storage.journal.pendingCount() == 0, "…nor its StartTransaction")
    }

    @Test func connectionLostMidCallIsRetriedWithoutCountingAndDeliveredOnce() async throws {
        let drops = FakeCSMSDropOnce()
        let h = try Harness(csms: FakeCSMS(answer: drops.answer))
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        try h.sessionStarted(try h.beginSession("s1"))
        #expect(await settle { h.csms.payloads("StartTransaction").count >= 1 })
        h.chargePoint.connectionDown()
        h.chargePoint.connectionUp()
        #expect(await settle { (try? h.storage.journal.pendingCount()) == 0 })
        // One lost attempt, one answered; nothing after the answer.
        #expect(h.csms.payloads("StartTransaction").count == 2)
        #expect(try h.storage.journal.session("s1")?.transactionId == "101")
    }
}

final class FakeCSMSDropOnce: Sendable {
    private let dropped = Mutex(false)
    var answer: FakeCSMS.Answer {
        let accept = FakeCSMS.acceptEverything()
        return { [self] action, payload in
            if action == "StartTransaction", !dropped.locked({ d in defer { d = true }; return d }) {
                return .failure(.connectionLost(action: action))
            }
            return accept(action, payload)
        }
    }
}

@Suite("OCPP 1.6 messages from the station")
struct StationMessageTests {
    @Test func timestampsAreRFC3339UTC() {
        #expect(OCPP16Timestamp.string(unixMs: 0) == "1970-01-01T00:00:00.000Z")
        #expect(OCPP16Timestamp.string(unixMs: 1_767_225_600_123) == "2026-01-01T00:00:00.123Z")
        #expect(OCPP16Timestamp.string(unixMs: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.isDateTime(OCPP16Timestamp.string(unixMs: 1_700_000_000_999)))
    }

    @Test func sampledMeterValuesCarryTheEnergyRegister() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        let session = try h.beginSession("s1")
        try h.sessionStarted(session)
        h.station.update(1) { $0.session = session; $0.energyWh = 1_500.26; $0.powerW = 7_000 }
        await h.chargePoint.sampleMeterValuesForTesting()
        #expect(await settle { h.csms.payloads("MeterValues").count == 1 })
        let request = try MeterValuesRequest(json: h.csms.payloads("MeterValues")[0])
        #expect(request.transactionId == 101)
        #expect(request.meterValue[0].sampledValue.map(\.value) == ["1500.3"])
        #expect(request.meterValue[0].sampledValue[0].measurand == .energyActiveImportRegister)
    }

    @Test func faultsMapToTheirErrorCodes() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
        h.chargePoint.stationEvent(.statusChanged(connectorId: 2, .faulted, .meterFailure, atUnixMs: 0))
        h.chargePoint.stationEvent(.statusChanged(connectorId: 2, .faulted, .diodeFault, atUnixMs: 0))
        #expect(await settle { h.csms.payloads("StatusNotification").count == 5 })
        let last = h.csms.payloads("StatusNotification").suffix(2)
        #expect(last.map { $0["errorCode"] } == ["PowerMeterFailure", "OtherError"])
        #expect(last.last?["vendorErrorCode"] == "diodeFault")
    }
}

@Suite("OCPP 1.6 authorization")
struct AuthorizationTests {
    @Test func theStationsTokenGoesToTheCSMSAndTheAnswerBack() async throws {
        let csms = FakeCSMS(answer: { action, payload in
            if action == "Authorize" {
                let info = payload["idTag"] == "GOOD" ? IdTagInfo(parentIdTag: "FLEET", status: .accepted)
                    : IdTagInfo(parentIdTag: "FLEET", status: .blocked)
                return .success(AuthorizeResponse(idTagInfo: info).toJSON())
            }
            return FakeCSMS.acceptEverything()(action, payload)
        })
        let h = try Harness(csms: csms)
        await h.chargePoint.start()
        // Offline: no Authorize, the station decides by its offline rules.
        h.chargePoint.stationEvent(.authorizationNeeded(IdToken("GOOD")))
        #expect(await settle { h.station.commands.count == 1 })
        #expect(h.station.commands == [.authorizationResult(IdToken("GOOD"), nil)])
        #expect(!h.chargePoint.isOnline)

        h.chargePoint.connectionUp()
        #expect(await settle { h.chargePoint.isOnline })
        h.chargePoint.stationEvent(.authorizationNeeded(IdToken("GOOD")))
        h.chargePoint.stationEvent(.authorizationNeeded(IdToken("BAD")))
        #expect(await settle { h.station.commands.count == 3 })
        let results = h.station.commands.dropFirst().compactMap { c -> (String, ChargingCore.AuthorizationStatus?)? in
            if case let .authorizationResult(token, info) = c { return (token.value, info?.status) }
            return nil
        }
        #expect(results.first { $0.0 == "GOOD" }?.1 == .accepted)
        #expect(results.first { $0.0 == "BAD" }?.1 == .blocked)
        #expect(h.csms.payloads("Authorize").count == 2)
    }

    @Test func authorizeRemoteTxRequestsAuthorizesBeforeStarting() async throws {
        let csms = FakeCSMS(answer: { action, payload in
            if action == "Authorize" {
                return .success(AuthorizeResponse(idTagInfo: IdTagInfo(status: payload["idTag"] == "OK" ? .accepted : .invalid)).toJSON())
            }
            return FakeCSMS.acceptEverything()(action, payload)
        })
        let h = try Harness(csms: csms)
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        _ = try await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "AuthorizeRemoteTxRequests", "value": "true"]).get()
        #expect(try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: ["idTag": "NO"]).get()["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("Authorize").count == 1 })
        #expect(try await h.chargePoint.handle(action: "RemoteStartTransaction", payload: ["idTag": "OK"]).get()["status"] == "Accepted")
        #expect(await settle { h.station.commands.contains(.remoteStart(connectorId: 1, idToken: IdToken("OK", kind: .central), parentIdToken: nil)) })
        #expect(!h.station.commands.contains { if case let .remoteStart(_, token, _) = $0 { token.value == "NO" } else { false } })
    }
}

@Suite("OCPP 1.6 heartbeat and stored configuration")
struct HeartbeatAndStoredConfigurationTests {
    @Test func heartbeatFollowsAChangedIntervalAtOnce() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        // The heartbeat sleeps the whole interval (300 s from the boot answer), not a second
        // at a time: an idle charger is not woken every second to look at the clock.
        let boot = EVSEDuration.seconds(Int64(300)), changed = EVSEDuration.seconds(Int64(2))
        #expect(await settle { h.sleeper.requested.contains(boot) })
        _ = try await h.chargePoint.handle(action: "ChangeConfiguration", payload: ["key": "HeartbeatInterval", "value": "2"]).get()
        #expect(await settle { h.sleeper.requested.contains(changed) }, "restarted with the new interval")
        h.sleeper.release(boot)
        for _ in 0..<500 { await Task.yield() }
        #expect(h.csms.payloads("Heartbeat").isEmpty, "the old interval's sleep ended a cancelled task")
        h.sleeper.release(changed)
        #expect(await settle { h.csms.payloads("Heartbeat").count == 1 })
        #expect(await settle { h.sleeper.requested.contains(changed) }, "and waits for the next one")
    }

    @Test func aNewSocketStartsTheHeartbeatIntervalAgain() async throws {
        let h = try Harness()
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })
        let interval = EVSEDuration.seconds(Int64(300))
        #expect(await settle { h.sleeper.requested.filter { $0 == interval }.count == 1 })
        h.chargePoint.connectionDown()
        h.chargePoint.connectionUp()
        #expect(await settle { h.sleeper.requested.filter { $0 == interval }.count == 2 }, "a new heartbeat task")
        h.sleeper.release(interval)
        #expect(await settle { h.csms.payloads("Heartbeat").count == 1 }, "one Heartbeat: the first task was cancelled")
    }

    @Test func aStoredValueThatNoLongerValidatesFallsBackToTheDefault() throws {
        let storage = try StationStorage(database: Database.inMemory())
        try storage.config.set("soon", for: ConfigurationService.storePrefix + "HeartbeatInterval")
        try storage.config.set("30", for: ConfigurationService.storePrefix + "MeterValueSampleInterval")
        try storage.config.set("5", for: ConfigurationService.storePrefix + "NumberOfConnectors")
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: 2)
        #expect(keys.value("HeartbeatInterval") == "300")
        #expect(keys.value("MeterValueSampleInterval") == "30")
        #expect(keys.value("NumberOfConnectors") == "2", "read-only keys are never taken from the store")
    }
}
