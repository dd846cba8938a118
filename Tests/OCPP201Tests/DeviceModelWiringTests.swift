import ChargingCore
import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Testing

/// The device model on the 2.0.1 station: settings from its variables, SetVariables taking
/// effect, the station's own checks, reports paged after the answer, monitors on real values.
@Suite struct DeviceModelWiringTests {
    static let layout = StationLayout(evses: [EVSELayout(evseId: 1, maxPowerW: 22_080, connectorType: "sType2"),
                                              EVSELayout(evseId: 2, maxPowerW: 22_080, connectorType: "sType2")])

    static func model(_ storage: StationStorage, initial: [VariableKey: String] = [:]) throws -> DeviceModel {
        try DeviceModel(store: storage.deviceModel, layout: layout,
                        identity: StationIdentity(vendorName: "SwiftEVSE", model: "Test", firmwareVersion: "1.0", stationId: "CS1"),
                        initialValues: initial)
    }

    static func variable(_ component: String, _ name: String) -> JSONValue {
        ["component": ["name": .string(component)], "variable": ["name": .string(name)]]
    }

    @Test func theSettingsComeFromTheDeviceModelAtStart() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage, initial: [VariableKey(component: "TxCtrlr", variable: "EVConnectionTimeOut"): "120",
                                                      .heartbeatInterval: "45"])
        let h = try Harness(storage: storage, deviceModel: model)
        #expect(await h.chargingStation.settings.evConnectionTimeOut == 120)
        #expect(await h.chargingStation.settings.heartbeatInterval == 45)
    }

    @Test func anAcceptedSetVariablesGovernsTheStationAndAReadOnlyOneIsRejected() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let answer = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "17", "component": ["name": "OCPPCommCtrlr"], "variable": ["name": "HeartbeatInterval"]],
            ["attributeValue": "x", "component": ["name": "ChargingStation"], "variable": ["name": "Model"]],
        ]]).get()
        #expect(answer["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(answer["setVariableResult"]?[1]?["attributeStatus"] == "Rejected")
        #expect(await settle { await h.chargingStation.settings.heartbeatInterval == 17 })
    }

    @Test func aTransactionPointTheStationCannotCarryOutIsRejectedWithAReasonAndNotStored() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        for value in ["ParkingBayOccupancy", "DataSigned", "EVConnected,ParkingBayOccupancy"] {
            let answer = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
                ["attributeValue": .string(value), "component": ["name": "TxCtrlr"], "variable": ["name": "TxStartPoint"]]]]).get()
            #expect(answer["setVariableResult"]?[0]?["attributeStatus"] == "Rejected", "\(value)")
            #expect(answer["setVariableResult"]?[0]?["attributeStatusInfo"]?["reasonCode"] != nil, "\(value)")
        }
        #expect(model.value(VariableKey(component: "TxCtrlr", variable: "TxStartPoint")) == "PowerPathClosed")
        let password = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "0123456789abcdefXYZ", "component": ["name": "SecurityCtrlr"], "variable": ["name": "BasicAuthPassword"]]]]).get()
        #expect(password["setVariableResult"]?[0]?["attributeStatus"] == "Rejected")
        #expect(model.value(.basicAuthPassword) == "", "a refused password is not stored")
        #expect(await h.chargingStation.settings.txStartPoint == ["PowerPathClosed"])
        let energy = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "EnergyTransfer", "component": ["name": "TxCtrlr"], "variable": ["name": "TxStartPoint"]]]]).get()
        #expect(energy["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(await settle { await h.chargingStation.settings.txStartPoint == ["EnergyTransfer"] })
    }

    @Test func aRefusedTokenWithStopTxOnInvalidIdFalseKeepsTheTransactionWithMaxEnergyOnInvalidId() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let csms = FakeCSMS()
        let h = try await Harness.accepted(csms: csms, storage: storage, deviceModel: try Self.model(storage))
        let answer = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "false", "component": ["name": "TxCtrlr"], "variable": ["name": "StopTxOnInvalidId"]],
            ["attributeValue": "750", "component": ["name": "TxCtrlr"], "variable": ["name": "MaxEnergyOnInvalidId"]],
        ]]).get()
        #expect(answer["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(answer["setVariableResult"]?[1]?["attributeStatus"] == "Accepted")
        #expect(await settle { await h.chargingStation.settings.maxEnergyOnInvalidId == 750 })
        csms.setAnswer { action, payload in
            guard action == "TransactionEvent" else { return FakeCSMS.acceptEverything()(action, payload) }
            return .success(TransactionEventResponse(idTokenInfo: IdTokenInfoType(status: .invalid)).toJSON())
        }
        _ = try h.sessionStarted("tx-i")
        #expect(await settle { h.station.commands.contains(.deauthorizeSession(connectorId: 1, sessionId: "tx-i", energyAllowanceWh: 750)) })
        #expect(!h.station.commands.contains { if case .stopSession = $0 { true } else { false } })
    }

    @Test func theAuthCachePolicyAndLifeTimeGoToTheCore() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let answer = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "LFU", "component": ["name": "AuthCacheCtrlr"], "variable": ["name": "Policy"]],
            ["attributeValue": "600", "component": ["name": "AuthCacheCtrlr"], "variable": ["name": "LifeTime"]],
            ["attributeValue": "CUSTOM", "component": ["name": "AuthCacheCtrlr"], "variable": ["name": "Policy"]],
        ]]).get()
        #expect(answer["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(answer["setVariableResult"]?[1]?["attributeStatus"] == "Accepted")
        #expect(answer["setVariableResult"]?[2]?["attributeStatus"] == "Rejected", "a policy the station does not have")
        #expect(await settle {
            h.station.requests.contains { if case .authorizationRules(let r) = $0 { r.cacheEviction == "LFU" && r.cacheLifeTimeSeconds == 600 } else { false } }
        })
    }

    @Test func getVariablesAnswersEachStatusAndTooManyItemsIsACallError() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let answer = try await h.chargingStation.handle(action: "GetVariables", payload: ["getVariableData": [
            Self.variable("OCPPCommCtrlr", "HeartbeatInterval"), Self.variable("NoSuchCtrlr", "X"),
            Self.variable("OCPPCommCtrlr", "NoSuchVariable"), Self.variable("SecurityCtrlr", "BasicAuthPassword"),
            Self.variable("ClockCtrlr", "DateTime"),
        ]]).get()
        let statuses = (0..<5).map { answer["getVariableResult"]?[$0]?["attributeStatus"] }
        #expect(statuses == ["Accepted", "UnknownComponent", "UnknownVariable", "Rejected", "Accepted"])
        #expect(answer["getVariableResult"]?[4]?["attributeValue"] == .string(OCPPTimestamp.string(unixMs: h.clock.now())))
        let many = JSONValue.array(Array(repeating: Self.variable("OCPPCommCtrlr", "HeartbeatInterval"), count: 51))
        let refused = await h.chargingStation.handle(action: "GetVariables", payload: ["getVariableData": many])
        guard case .failure(let error) = refused else {
            Issue.record("51 items answered: \(refused)")
            return
        }
        #expect(error.code == .occurrenceConstraintViolation)
    }

    /// GetVariables never suspends: on the station's event loop it is answered where it was
    /// read (no task, no actor hop), with the answer the async path gives, CallErrors included.
    @Test func getVariablesIsAnsweredOnTheLoopAsTheAsyncPathAnswersIt() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let station = h.chargingStation
        #expect(station.operations.immediateActions == [.getVariables])
        func onTheLoop(_ action: String, _ payload: JSONValue) async throws -> OCPPCallAnswer? {
            try await station.executorLoop.submit { station.answerImmediately(action: action, payload: payload) }.get()
        }
        let ask: JSONValue = ["getVariableData": [Self.variable("OCPPCommCtrlr", "HeartbeatInterval"), Self.variable("NoSuchCtrlr", "X")]]
        let immediate = try #require(try await onTheLoop("GetVariables", ask))
        #expect(try immediate.result.get() == (await station.handle(action: "GetVariables", payload: ask)).get())
        #expect(try immediate.result.get()["getVariableResult"]?[1]?["attributeStatus"] == "UnknownComponent")

        let many: JSONValue = ["getVariableData": .array(Array(repeating: Self.variable("OCPPCommCtrlr", "HeartbeatInterval"), count: 51))]
        let refused = try #require(try await onTheLoop("GetVariables", many))
        guard case .failure(let error) = refused.result else {
            Issue.record("51 items answered: \(refused.result)")
            return
        }
        #expect(error.code == .occurrenceConstraintViolation)
        #expect(station.answerImmediately(action: "GetVariables", payload: ask) == nil, "off the station's loop")
        #expect(try await onTheLoop("SetVariables", ["setVariableData": []]) == nil, "an operation that suspends")
    }

    @Test func aFullInventoryIsAnsweredThenSentInPagesWithSeqNoAndTbc() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(storage: storage, deviceModel: try Self.model(storage))
        let answer = try await h.chargingStation.handle(action: "GetBaseReport", payload: ["requestId": 4, "reportBase": "FullInventory"]).get()
        #expect(answer["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("NotifyReport").last?["tbc"] == .bool(false) })
        let pages = h.csms.payloads("NotifyReport")
        #expect(pages.count >= 2)
        #expect(pages.map { $0["seqNo"] } == (0..<pages.count).map { JSONValue.integer(Int64($0)) })
        #expect(pages.dropLast().allSatisfy { $0["tbc"] == .bool(true) })
        #expect(pages.allSatisfy { $0["requestId"] == .integer(4) })
    }

    @Test func aThresholdMonitorOnEVSEPowerRaisesNotifyEventOnARealReadingAndStatusBecomesAvailabilityState() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        let set = try await h.chargingStation.handle(action: "SetVariableMonitoring", payload: ["setMonitoringData": [
            ["value": 1000.0, "type": "UpperThreshold", "severity": 5,
             "component": ["name": "EVSE", "evse": ["id": 1]], "variable": ["name": "Power"]]]]).get()
        #expect(set["setMonitoringResult"]?[0]?["status"] == "Accepted")
        h.station.emit(.meterSample(connectorId: 1, MeterSample(energyWh: 10, powerW: 200)))
        h.station.emit(.statusChanged(connectorId: 1, .charging, nil, atUnixMs: h.clock.now()))
        h.station.emit(.meterSample(connectorId: 1, MeterSample(energyWh: 20, powerW: 7_200)))
        #expect(await settle { h.csms.payloads("NotifyEvent").count == 1 })
        let event = h.csms.payloads("NotifyEvent").first?["eventData"]?[0]
        #expect(event?["actualValue"] == "7200")
        #expect(event?["trigger"] == "Alerting")
        #expect(event?["component"]?["evse"]?["id"] == .integer(1))
        #expect(model.value(.evsePower(evseId: 1)) == "7200")
        #expect(model.value(.connectorAvailabilityState(evseId: 1, connectorId: 1)) == "Occupied")
        #expect(model.value(.evseAvailabilityState(evseId: 2)) == "Available")
    }

    @Test func aMonitorForTransactionsOnlySpeaksWhileASessionRunsAndItsEventCarriesTheTransactionId() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        let set = try await h.chargingStation.handle(action: "SetVariableMonitoring", payload: ["setMonitoringData": [
            ["value": 500.0, "type": "Delta", "severity": 5, "transaction": true,
             "component": ["name": "EVSE", "evse": ["id": 2]], "variable": ["name": "Power"]]]]).get()
        #expect(set["setMonitoringResult"]?[0]?["status"] == "Accepted")
        h.station.emit(.meterSample(connectorId: 2, MeterSample(energyWh: 1, powerW: 3_000)))
        #expect(await settle { model.value(.evsePower(evseId: 2)) == "3000" })
        #expect(h.csms.payloads("NotifyEvent").isEmpty, "no session: the transaction-only monitor is silent")
        _ = try h.sessionStarted("tx-monitored", connector: 2)
        h.station.emit(.meterSample(connectorId: 2, MeterSample(energyWh: 2, powerW: 7_000)))
        #expect(await settle { h.csms.payloads("NotifyEvent").count == 1 })
        let event = h.csms.payloads("NotifyEvent").first?["eventData"]?[0]
        #expect(event?["transactionId"] == "tx-monitored")
        #expect(event?["actualValue"] == "7000")
        #expect(event?["trigger"] == "Delta")
    }

    @Test func aTransactionBegunAtThePlugInIsNamedByMonitorEventsAndForgottenWhenTheEVLeaves() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try Self.model(storage)
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        let start = try await h.chargingStation.handle(action: "SetVariables", payload: ["setVariableData": [
            ["attributeValue": "EVConnected", "component": ["name": "TxCtrlr"], "variable": ["name": "TxStartPoint"]]]]).get()
        #expect(start["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(await settle { await h.chargingStation.settings.txStartPoint == ["EVConnected"] })
        let set = try await h.chargingStation.handle(action: "SetVariableMonitoring", payload: ["setMonitoringData": [
            ["value": 500.0, "type": "Delta", "severity": 5, "transaction": true,
             "component": ["name": "EVSE", "evse": ["id": 2]], "variable": ["name": "Power"]]]]).get()
        #expect(set["setMonitoringResult"]?[0]?["status"] == "Accepted")
        let prelude = try h.preludeBegan("tx-early", connector: 2, cause: .evConnected)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 1 })
        h.station.emit(.meterSample(connectorId: 2, MeterSample(energyWh: 2, powerW: 3_000)))
        #expect(await settle { h.csms.payloads("NotifyEvent").count == 1 })
        #expect(h.csms.payloads("NotifyEvent").first?["eventData"]?[0]?["transactionId"] == "tx-early")
        try h.preludeEnded(prelude, reason: .evDisconnected)
        #expect(await settle { h.csms.payloads("TransactionEvent").count == 2 })
        h.station.emit(.meterSample(connectorId: 2, MeterSample(energyWh: 3, powerW: 9_000)))
        #expect(await settle { model.value(.evsePower(evseId: 2)) == "9000" })
        for _ in 0..<200 { await Task.yield() }
        #expect(h.csms.payloads("NotifyEvent").count == 1, "no transaction any more: the transaction-only monitor is silent")
    }
}
