import ChargingCore
import Locking
import HAL
import OCPP201
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

@Suite("OCPP 2.0.1 remote control, availability, reservation, authorization (C, D, F, G, H, P)")
struct OperationTests {
    @Test func requestStartGoesToTheCoreAndItsRemoteStartIdToTheStartedEvent() async throws {
        let h = try await Harness.accepted()
        let answer = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "APP-7", "type": "eMAID"], "remoteStartId": 77, "evseId": 2]).get()
        #expect(answer["status"] == "Accepted")
        #expect(h.station.commands.contains(.remoteStart(connectorId: 2, idToken: IdToken("APP-7", kind: .eMAID), parentIdToken: nil)))
        _ = try h.sessionStarted("tx-remote", connector: 2, token: "APP-7", reason: .remote)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        let started = h.csms.payloads("TransactionEvent")[0]
        #expect(started["triggerReason"] == "RemoteStart")
        #expect(started["transactionInfo"]?["remoteStartId"] == .integer(77))
    }

    @Test func requestStartWithAnotherProfileThanTxProfileOrOnABusyEVSEIsRejectedWithAReason() async throws {
        let h = try await Harness.accepted()
        h.station.update(1) { $0.status = .faulted }
        let busy = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 1, "evseId": 1]).get()
        #expect(busy["status"] == "Rejected")
        #expect(busy["statusInfo"]?["reasonCode"] != nil)
        let profile: JSONValue = ["id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
                                  "chargingSchedule": [["id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [["startPeriod": 0, "limit": 16.0]]]]]
        let wrong = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 2, "chargingProfile": profile]).get()
        #expect(wrong["status"] == "Rejected")
    }

    @Test func requestStartWithATxProfileHandsItToTheCoreThroughThePort() async throws {
        let h = try await Harness.accepted()
        let profile: JSONValue = ["id": 3, "stackLevel": 1, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                                  "chargingSchedule": [["id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [["startPeriod": 0, "limit": 10.0]]]]]
        let answer = try await h.chargingStation.handle(action: "RequestStartTransaction", payload: [
            "idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 9, "evseId": 2, "chargingProfile": profile]).get()
        #expect(answer["status"] == "Accepted")
        let installed = h.station.requests.compactMap { r -> CompositeScheduleCalculator? in
            if case .chargingProfiles(let c) = r { return c }
            return nil
        }
        #expect(installed.count == 1)
        #expect(installed.first?.profiles.map(\.connectorId) == [2])
        #expect(installed.first?.profiles.first?.profile.schedule.periods.first?.limit == 10)
    }

    @Test func requestStopOfARunningTransactionIsAcceptedAndOfAnUnknownOneRejected() async throws {
        let h = try await Harness.accepted()
        _ = try h.sessionStarted("tx-stop")
        let stop = try await h.chargingStation.handle(action: "RequestStopTransaction", payload: ["transactionId": "tx-stop"]).get()
        #expect(stop["status"] == "Accepted")
        #expect(h.station.commands.contains(.stopSession(connectorId: 1, sessionId: "tx-stop", reason: .remote)))
        let unknown = try await h.chargingStation.handle(action: "RequestStopTransaction", payload: ["transactionId": "other"]).get()
        #expect(unknown["status"] == "Rejected")
    }

    @Test func unlockAnswersFromTheLockAndKeepsARunningTransactionLocked() async throws {
        let h = try await Harness.accepted()
        let free = try await h.chargingStation.handle(action: "UnlockConnector", payload: ["evseId": 2, "connectorId": 1]).get()
        #expect(free["status"] == "Unlocked")
        _ = try h.sessionStarted("tx-lock")
        let busy = try await h.chargingStation.handle(action: "UnlockConnector", payload: ["evseId": 1, "connectorId": 1]).get()
        #expect(busy["status"] == "OngoingAuthorizedTransaction")
        let unknown = try await h.chargingStation.handle(action: "UnlockConnector", payload: ["evseId": 9, "connectorId": 1]).get()
        #expect(unknown["status"] == "UnknownConnector")
        #expect(!h.station.commands.contains(.unlock(connectorId: 1)))
    }

    @Test func changeAvailabilityOfTheStationAnEVSEOrAConnectorAndScheduledWhileATransactionRuns() async throws {
        let h = try await Harness.accepted()
        let station = try await h.chargingStation.handle(action: "ChangeAvailability", payload: ["operationalStatus": "Inoperative"]).get()
        #expect(station["status"] == "Accepted")
        #expect(h.station.commands.contains(.changeAvailability(connectorId: 0, operative: false)))
        _ = try h.sessionStarted("tx-av", connector: 2)
        let evse = try await h.chargingStation.handle(action: "ChangeAvailability", payload: ["operationalStatus": "Inoperative", "evse": ["id": 2]]).get()
        #expect(evse["status"] == "Scheduled")
        let connector = try await h.chargingStation.handle(action: "ChangeAvailability", payload: ["operationalStatus": "Operative", "evse": ["id": 1, "connectorId": 1]]).get()
        #expect(connector["status"] == "Accepted")
        let unknown = try await h.chargingStation.handle(action: "ChangeAvailability", payload: ["operationalStatus": "Operative", "evse": ["id": 1, "connectorId": 2]]).get()
        #expect(unknown["status"] == "Rejected")
    }

    @Test func aReconnectAfterOfflineThresholdReportsEveryConnectorAShortGapOnlyTheChanges() async throws {
        let h = try await Harness.accepted()  // OfflineThreshold 60 s
        #expect(await settle { h.csms.payloads("StatusNotification").count == 2 }, "the boot's full report")
        // A 10 s gap: nothing changed, nothing is said.
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        h.clock.advance(seconds: 10)
        h.chargingStation.connectionUp()
        #expect(await settle { h.chargingStation.isOnline })
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.payloads("StatusNotification").count == 2)
        // A change while offline goes out once the link is back, alone.
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        h.chargingStation.stationEvent(.statusChanged(connectorId: 2, .unavailable, nil, atUnixMs: h.clock.now()))
        h.clock.advance(seconds: 30)
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
        #expect(h.csms.payloads("StatusNotification").last?["evseId"] == .integer(2))
        // Offline for two minutes, longer than OfflineThreshold: every connector's status.
        h.chargingStation.connectionDown()
        #expect(await settle { !h.chargingStation.isOnline })
        h.clock.advance(seconds: 120)
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 5 })
        #expect(Set(h.csms.payloads("StatusNotification").suffix(2).map { $0["evseId"] }) == [.integer(1), .integer(2)])
    }

    @Test func statusChangesAreFoldedAndReportedOncePerChange() async throws {
        let h = try await Harness.accepted()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 2 })
        for status in [ConnectorStatus.preparing, .charging, .suspendedEV, .reserved, .unavailable, .faulted] {
            h.chargingStation.stationEvent(.statusChanged(connectorId: 1, status, nil, atUnixMs: h.clock.now()))
        }
        #expect(await settle { h.csms.payloads("StatusNotification").count == 6 })
        #expect(h.csms.payloads("StatusNotification").suffix(4).map { $0["connectorStatus"] } == ["Occupied", "Reserved", "Unavailable", "Faulted"])
    }

    @Test func resetOnIdleWaitsForTheTransactionAndPerEVSEImmediateEndsIt() async throws {
        let h = try await Harness.accepted()
        _ = try h.sessionStarted("tx-reset", connector: 2)
        let scheduled = try await h.chargingStation.handle(action: "Reset", payload: ["type": "OnIdle"]).get()
        #expect(scheduled["status"] == "Scheduled")
        #expect(!h.station.commands.contains(.restart(hard: false)))
        let evse = try await h.chargingStation.handle(action: "Reset", payload: ["type": "Immediate", "evseId": 2]).get()
        #expect(evse["status"] == "Accepted")
        #expect(h.station.commands.contains(.stopSession(connectorId: 2, sessionId: "tx-reset", reason: .hardReset)))
        let unknown = try await h.chargingStation.handle(action: "Reset", payload: ["type": "Immediate", "evseId": 5]).get()
        #expect(unknown["status"] == "Rejected")
    }

    @Test func localListFullThenDifferentialAndTheVersionRules() async throws {
        let h = try await Harness.accepted()
        let full = try await h.chargingStation.handle(action: "SendLocalList", payload: [
            "versionNumber": 3, "updateType": "Full",
            "localAuthorizationList": [["idToken": ["idToken": "CARD1", "type": "ISO14443"], "idTokenInfo": ["status": "Accepted"]],
                                       ["idToken": ["idToken": "CARD2", "type": "ISO14443"], "idTokenInfo": ["status": "Blocked"]]]]).get()
        #expect(full["status"] == "Accepted")
        #expect(try h.storage.localList.lookup("CARD2")?.status == .blocked)
        let version = try await h.chargingStation.handle(action: "GetLocalListVersion", payload: [:]).get()
        #expect(version["versionNumber"] == .integer(3))
        let stale = try await h.chargingStation.handle(action: "SendLocalList", payload: [
            "versionNumber": 2, "updateType": "Differential",
            "localAuthorizationList": [["idToken": ["idToken": "CARD3", "type": "ISO14443"], "idTokenInfo": ["status": "Accepted"]]]]).get()
        #expect(stale["status"] == "VersionMismatch")
        #expect(try h.storage.localList.lookup("CARD3") == nil, "a refused update changes nothing")
        let removal = try await h.chargingStation.handle(action: "SendLocalList", payload: [
            "versionNumber": 4, "updateType": "Differential",
            "localAuthorizationList": [["idToken": ["idToken": "CARD2", "type": "ISO14443"]]]]).get()
        #expect(removal["status"] == "Accepted")
        #expect(try h.storage.localList.lookup("CARD2") == nil)
    }

    @Test func aListLargerThanTheStationHoldsFailsAndChangesNothing() async throws {
        var settings = OCPP201Settings()
        settings.localAuthListEntries = 2
        let h = try await Harness.accepted(settings: settings)
        func entry(_ token: String) -> JSONValue { ["idToken": ["idToken": .string(token), "type": "ISO14443"], "idTokenInfo": ["status": "Accepted"]] }
        let full = try await h.chargingStation.handle(action: "SendLocalList", payload: [
            "versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry("A"), entry("B")]]).get()
        #expect(full["status"] == "Accepted")
        let more = try await h.chargingStation.handle(action: "SendLocalList", payload: [
            "versionNumber": 2, "updateType": "Differential", "localAuthorizationList": [entry("C")]]).get()
        #expect(more["status"] == "Failed")
        #expect(try h.storage.localList.lookup("C") == nil)
        #expect(try h.storage.localList.currentVersion() == 1)
    }

    @Test func authorizeAsksTheCSMSWhileOnlineAndTellsTheCoreNothingOffline() async throws {
        let h = try await Harness.accepted(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(token: .noCredit)))
        h.chargingStation.stationEvent(.authorizationNeeded(IdToken("K-1", kind: .keyCode)))
        #expect(await settle { h.station.requests.contains(.authorizationResult(IdToken("K-1", kind: .keyCode), AuthorizationInfo(status: .noCredit))) })
        #expect(h.csms.payloads("Authorize").first?["idToken"]?["type"] == "KeyCode")
        h.chargingStation.connectionDown()
        h.chargingStation.stationEvent(.authorizationNeeded(IdToken("K-2")))
        #expect(await settle { h.station.requests.contains(.authorizationResult(IdToken("K-2"), nil)) })
    }

    @Test func reservationsGoToTheCoreAndTheirEndIsReported() async throws {
        let h = try await Harness.accepted()
        let any = try await h.chargingStation.handle(action: "ReserveNow", payload: [
            "id": 5, "expiryDateTime": "2026-01-01T01:00:00Z", "idToken": ["idToken": "R1", "type": "ISO14443"], "connectorType": "cType2"]).get()
        #expect(any["status"] == "Accepted")
        #expect(h.station.commands.contains(.reserve(ReservationRequest(connectorId: 1, reservationId: 5, idToken: IdToken("R1"),
                                                                        parentIdToken: nil, expiresAtUnixMs: 1_767_229_200_000))))
        h.station.reservationAnswer.locked { $0 = .occupied }
        let busy = try await h.chargingStation.handle(action: "ReserveNow", payload: [
            "id": 6, "expiryDateTime": "2026-01-01T01:00:00Z", "idToken": ["idToken": "R2", "type": "ISO14443"], "evseId": 2]).get()
        #expect(busy["status"] == "Occupied")
        h.station.update(1) { $0.reservationId = 5 }
        let cancel = try await h.chargingStation.handle(action: "CancelReservation", payload: ["reservationId": 5]).get()
        #expect(cancel["status"] == "Accepted")
        let unknown = try await h.chargingStation.handle(action: "CancelReservation", payload: ["reservationId": 99]).get()
        #expect(unknown["status"] == "Rejected")
        h.chargingStation.stationEvent(.reservationEnded(id: 7, .expired))
        h.chargingStation.stationEvent(.reservationEnded(id: 8, .used))
        h.chargingStation.stationEvent(.reservationEnded(id: 9, .faulted))
        #expect(await settle { h.csms.payloads("ReservationStatusUpdate").count == 2 })
        let updates = h.csms.payloads("ReservationStatusUpdate")
        #expect(Set(updates.map { $0["reservationUpdateStatus"] }) == ["Expired", "Removed"])
    }

    @Test func dataTransferIsUnknownVendorAndClearCacheGoesToTheCore() async throws {
        let h = try await Harness.accepted()
        let data = try await h.chargingStation.handle(action: "DataTransfer", payload: ["vendorId": "com.example"]).get()
        #expect(data["status"] == "UnknownVendorId")
        let clear = try await h.chargingStation.handle(action: "ClearCache", payload: [:]).get()
        #expect(clear["status"] == "Accepted")
        #expect(h.station.commands.contains(.clearAuthorizationCache))
    }

    @Test func triggeredStatusAndTransactionEventPerEVSE() async throws {
        let h = try await Harness.accepted()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 2 })
        let status = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "StatusNotification", "evse": ["id": 2, "connectorId": 1]]).get()
        #expect(status["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 })
        #expect(h.csms.payloads("StatusNotification").last?["evseId"] == .integer(2))
        let none = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "TransactionEvent", "evse": ["id": 1]]).get()
        #expect(none["status"] == "Rejected")
        _ = try h.sessionStarted("tx-trig")
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        let tx = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "TransactionEvent", "evse": ["id": 1]]).get()
        #expect(tx["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 })
        #expect(h.csms.payloads("TransactionEvent")[1]["triggerReason"] == "Trigger")
        #expect(h.csms.payloads("TransactionEvent")[1]["seqNo"] == .integer(1))
        let firmware = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "FirmwareStatusNotification"]).get()
        #expect(firmware["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("FirmwareStatusNotification").first?["status"] == "Idle" })
        let sign = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "SignChargingStationCertificate"]).get()
        #expect(sign["status"] == "Rejected", "no PKI here (CertificateTests has the station that signs)")
        let v2g = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "SignV2GCertificate"]).get()
        #expect(v2g["status"] == "NotImplemented")
    }

    @Test func txStopPointEVConnectedEndsTheTransactionOnTheEVSideUnplugWhateverStopTxOnEVSideDisconnectSays() async throws {
        let h = try await Harness.accepted()
        var settings = await h.chargingStation.settings
        settings.stopTxOnEVSideDisconnect = false
        settings.txStopPoint = ["Authorized"]
        await h.chargingStation.apply(settings)
        #expect(h.station.requests.last { if case .sessionRules = $0 { return true }; return false }
                == .sessionRules(SessionRules(connectionTimeout: .seconds(Int64(60)), stopOnEVSideDisconnect: false, unlockOnEVSideDisconnect: true)))
        settings.txStopPoint = ["EVConnected", "Authorized"]
        await h.chargingStation.apply(settings)
        #expect(h.station.requests.last { if case .sessionRules = $0 { return true }; return false }
                == .sessionRules(SessionRules(connectionTimeout: .seconds(Int64(60)), stopOnEVSideDisconnect: true, unlockOnEVSideDisconnect: true)))
    }

    @Test func securityEventsGoOutOnceRegisteredAndAResetRaisesOne() async throws {
        let h = try Harness()
        h.chargingStation.recordSecurityEvent("StartupOfTheDevice", atUnixMs: h.clock.now())
        await h.chargingStation.start()
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.payloads("SecurityEventNotification").isEmpty, "not before the boot is accepted")
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("SecurityEventNotification").count == 1 })
        let reset = try await h.chargingStation.handle(action: "Reset", payload: ["type": "Immediate"]).get()
        #expect(reset["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").count == 2 })
        #expect(h.csms.payloads("SecurityEventNotification").map { $0["type"] } == ["StartupOfTheDevice", "ResetOrReboot"])
        #expect(await settle { (try? h.storage.securityLog.owedCount()) == 0 })
        #expect(await settle { h.station.commands.contains(.stopAllSessions(reason: .hardReset)) })
    }

    @Test func applyingSettingsHandsTheNewRulesToTheCore() async throws {
        let h = try await Harness.accepted()
        var settings = await h.chargingStation.settings
        settings.offlineTxForUnknownIdEnabled = true
        settings.evConnectionTimeOut = 90
        await h.chargingStation.apply(settings)
        #expect(h.station.requests.contains { if case .authorizationRules(let r) = $0 { return r.allowOfflineTxForUnknownId }; return false })
        #expect(h.station.requests.contains { if case .sessionRules(let r) = $0 { return r.connectionTimeout == .seconds(Int64(90)) }; return false })
    }
    @Test func dataTransferSetChargingModeReachesTheCoreAndOtherVendorsAreUnknown() async throws {
        let h = try await Harness.accepted()
        func transfer(_ vendor: String, _ messageId: String, _ data: JSONValue) async throws -> JSONValue {
            try await h.chargingStation.handle(action: "DataTransfer", payload: [
                "vendorId": .string(vendor), "messageId": .string(messageId), "data": data]).get()
        }
        #expect(try await transfer("org.swiftevse", "SetChargingMode", "pv")["status"] == "Accepted")
        #expect(try await transfer("org.swiftevse", "SetChargingMode", ["mode": "min+pv"])["status"] == "Accepted")
        func modes() -> [ChargingMode] { h.station.commands.compactMap { if case let .setChargingMode(m) = $0 { m } else { nil } } }
        #expect(modes() == [.pv, .minPlusPV])
        #expect(try await transfer("org.swiftevse", "SetChargingMode", "turbo")["status"] == "Rejected")
        #expect(try await transfer("org.swiftevse", "SetChargingMode", 3)["status"] == "Rejected")
        #expect(try await transfer("org.swiftevse", "Unheard", "pv")["status"] == "UnknownMessageId")
        #expect(try await transfer("com.example", "SetChargingMode", "pv")["status"] == "UnknownVendorId")
        #expect(modes().count == 2, "nothing but the two valid modes reached the core")
    }
}
