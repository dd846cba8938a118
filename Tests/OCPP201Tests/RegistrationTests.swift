import ChargingCore
import HAL
import OCPP201
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

@Suite("OCPP 2.0.1 provisioning (B)")
struct RegistrationTests {
    @Test func nothingButBootUntilAcceptedThenAStatusNotificationPerEVSE() async throws {
        let h = try Harness()
        await h.chargingStation.start()
        h.station.update(2) { $0.status = .preparing }
        #expect(await settle { await h.chargingStation.registration == .notRegistered })
        #expect(h.csms.calls.isEmpty, "offline: nothing is sent")
        h.chargingStation.connectionUp()
        #expect(await settle { h.csms.payloads("StatusNotification").count == 2 })
        #expect(h.csms.actions.first == "BootNotification")
        let boot = h.csms.payloads("BootNotification")[0]
        #expect(boot["reason"] == "PowerUp")
        #expect(boot["chargingStation"]?["vendorName"] == "SwiftEVSE")
        let statuses = h.csms.payloads("StatusNotification")
        #expect(statuses.map { $0["evseId"] } == [.integer(1), .integer(2)])
        #expect(statuses.map { $0["connectorId"] } == [.integer(1), .integer(1)])
        #expect(statuses[0]["connectorStatus"] == "Available")
        #expect(statuses[1]["connectorStatus"] == "Occupied", "Preparing folds into Occupied")
    }

    @Test func theHeartbeatSleepsItsWholeIntervalAndAChangedIntervalOrANewSocketRestartsIt() async throws {
        let h = try await Harness.accepted()
        // 300 s from the boot answer, not a second at a time.
        let boot = EVSEDuration.seconds(Int64(300)), changed = EVSEDuration.seconds(Int64(2))
        #expect(await settle { h.sleeper.requested.contains(boot) })
        var settings = await h.chargingStation.settings
        settings.heartbeatInterval = 2
        await h.chargingStation.apply(settings)
        #expect(await settle { h.sleeper.requested.contains(changed) }, "restarted with the new interval")
        h.sleeper.release(boot)
        for _ in 0..<500 { await Task.yield() }
        #expect(h.csms.payloads("Heartbeat").isEmpty, "the old interval's sleep ended a cancelled task")
        h.sleeper.release(changed)
        #expect(await settle { h.csms.payloads("Heartbeat").count == 1 })
        // The CSMS has the Heartbeat before the station has its answer: wait until the task
        // sleeps its next interval (`requested` is the sleeps pending), or that sleep would be
        // counted as the new socket's.
        #expect(await settle { h.sleeper.requested.filter { $0 == changed }.count == 1 }, "the next interval")
        let waiting = h.sleeper.requested.filter { $0 == changed }.count
        h.chargingStation.connectionDown()
        h.chargingStation.connectionUp()
        #expect(await settle { h.sleeper.requested.filter { $0 == changed }.count == waiting + 1 }, "a new socket: a new interval")
    }

    @Test func pendingSendsNothingElseWaitsTheIntervalAndAnswersCalls() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(boot: .pending, interval: 7)))
        await h.chargingStation.start()
        h.chargingStation.connectionUp()
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(7))) })
        #expect(await h.chargingStation.registration == .pending)
        // A status change while Pending is not sent (B02): only what the CSMS triggers.
        h.chargingStation.stationEvent(.statusChanged(connectorId: 1, .preparing, nil, atUnixMs: 0))
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.actions == ["BootNotification"])
        // The CSMS may ask while Pending; a remote start is refused until it accepts.
        let version = await h.chargingStation.handle(action: "GetLocalListVersion", payload: [:])
        #expect((try? version.get())?["versionNumber"] == .integer(0))
        let start = await h.chargingStation.handle(action: "RequestStartTransaction",
                                                   payload: ["idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 1])
        #expect((try? start.get())?["status"] == "Rejected")
        // TriggerMessage(BootNotification) cuts the interval short.
        h.csms.setAnswer(FakeCSMS.acceptEverything(boot: .accepted))
        let trigger = await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "BootNotification"])
        #expect((try? trigger.get())?["status"] == "Accepted")
        #expect(await settle { await h.chargingStation.registration == .accepted })
        #expect(h.csms.actions.filter { $0 == "BootNotification" }.count == 2)
        #expect(await settle { h.csms.payloads("StatusNotification").count == 2 })
    }

    @Test func rejectedStationAnswersSecurityErrorAndSendsNothing() async throws {
        let h = try Harness(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(boot: .rejected, interval: 5)))
        await h.chargingStation.start()
        h.chargingStation.connectionUp()
        #expect(await settle { await h.chargingStation.registration == .rejected })
        #expect(errorCode(await h.chargingStation.handle(action: "GetLocalListVersion", payload: [:])) == .securityError)
        #expect(h.csms.actions == ["BootNotification"])
        #expect(h.sleeper.requested.contains(.seconds(Int64(5))))
    }

    @Test func acceptedIntervalBecomesTheHeartbeatInterval() async throws {
        let h = try await Harness.accepted(csms: FakeCSMS(answer: FakeCSMS.acceptEverything(interval: 42)))
        #expect(await h.chargingStation.settings.heartbeatInterval == 42)
        let trigger = await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "Heartbeat"])
        #expect((try? trigger.get())?["status"] == "Accepted")
        #expect(await settle { h.csms.actions.contains("Heartbeat") })
        let again = await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "BootNotification"])
        #expect((try? again.get())?["status"] == "Rejected", "F06.FR.17: no BootNotification once accepted")
    }
}

@Suite("OCPP 2.0.1 CALLERRORs")
struct CallErrorTests {
    @Test func unknownAndUnservedActionsAreNotImplementedAndSchemaViolationsGetTheirCode() async throws {
        let h = try await Harness.accepted()
        let cs = h.chargingStation
        #expect(errorCode(await cs.handle(action: "Dance", payload: [:])) == .notImplemented)
        // The device model answers these once the daemon registers it.
        #expect(errorCode(await cs.handle(action: "GetVariables", payload: ["getVariableData": [["component": ["name": "OCPPCommCtrlr"], "variable": ["name": "HeartbeatInterval"]]]])) == .notImplemented)
        #expect(errorCode(await cs.handle(action: "Reset", payload: ["type": 1])) == .typeConstraintViolation)
        #expect(errorCode(await cs.handle(action: "Reset", payload: [:])) == .occurrenceConstraintViolation)
        #expect(errorCode(await cs.handle(action: "Reset", payload: ["type": "Later"])) == .propertyConstraintViolation)
        #expect(errorCode(await cs.handle(action: "ClearCache", payload: ["x": 1])) == .formationViolation)
        #expect(errorCode(await cs.handle(action: "GetVariables", payload: ["getVariableData": "x"])) == .typeConstraintViolation,
                "an unserved action's payload is still checked")
    }

    @Test func theDialectSpellsCodesThe201Way() {
        #expect(OCPPRPCDialect.ocpp201.spelling(of: .formationViolation) == "FormatViolation")
        #expect(OCPPRPCDialect.ocpp201.spelling(of: .occurrenceConstraintViolation) == "OccurrenceConstraintViolation")
    }

    @Test func everyServiceRegistersItsOperationsOnce() async throws {
        let h = try Harness()
        let registry = h.chargingStation.operations
        #expect(registry.registrations.values.allSatisfy { $0 == 1 })
        let expected: Set<OCPP201Action> = [.reset, .dataTransfer, .changeAvailability, .getTransactionStatus, .requestStartTransaction,
                                            .requestStopTransaction, .unlockConnector, .triggerMessage, .clearCache, .sendLocalList,
                                            .getLocalListVersion, .reserveNow, .cancelReservation, .setChargingProfile,
                                            .clearChargingProfile, .getChargingProfiles, .getCompositeSchedule,
                                            .installCertificate, .getInstalledCertificateIds, .deleteCertificate, .certificateSigned,
                                            .setNetworkProfile, .updateFirmware, .getLog, .customerInformation,
                                            .setDisplayMessage, .getDisplayMessages, .clearDisplayMessage, .costUpdated]
        #expect(registry.actions == expected)
        #expect(!registry.actions.contains(.getVariables), "the device model's, not this adapter's")
    }

    @Test func anExternalOperationAnswersOnceRegistered() async throws {
        var external = OCPP201OperationRegistry()
        external.registerExternal(GetVariablesRequest.self) { request in
            GetVariablesResponse(getVariableResult: request.getVariableData.map {
                .init(attributeStatus: .unknownComponent, component: $0.component, variable: $0.variable)
            })
        }
        let storage = try StationStorage(database: Database.inMemory())
        let cs = OCPP201ChargingStation(identity: .init(vendor: "V", model: "M"), sender: FakeCSMS(), station: FakeStation(),
                                        storage: storage, unixMs: { 0 }, external: external)
        await cs.start()
        cs.connectionUp()
        #expect(await settle { await cs.registration == .accepted })
        let answer = await cs.handle(action: "GetVariables", payload: ["getVariableData": [["component": ["name": "X"], "variable": ["name": "Y"]]]])
        #expect((try? answer.get())?["getVariableResult"]?.arrayValue?.first?["attributeStatus"] == "UnknownComponent")
    }
}
