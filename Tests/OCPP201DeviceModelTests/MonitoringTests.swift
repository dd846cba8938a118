import OCPP201DeviceModel
import OCPP201Messages
import Testing

@Suite struct MonitoringTests {
    static func monitor(_ type: MonitorEnumType, _ value: Double, severity: Int = 5, id: Int? = nil,
                        on component: ComponentType = component("EVSE", evse: 1), _ variable: String = "Power",
                        transaction: Bool? = nil) -> SetVariableMonitoringRequest.SetMonitoringDataType {
        .init(id: id, transaction: transaction, value: value, type: type, severity: severity, component: component,
              variable: VariableType(name: variable))
    }

    @Test func setVariableMonitoringStatuses() throws {
        let model = try openModel(freshStore())
        let response = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
            Self.monitor(.upperThreshold, 11_000),
            Self.monitor(.delta, 500),
            Self.monitor(.upperThreshold, 12_000),  // same type and severity on the same variable
            Self.monitor(.periodic, 60),
            Self.monitor(.upperThreshold, 1, on: component("ChargingStation"), "VendorName"),
            Self.monitor(.upperThreshold, 1, on: component("EVSE", evse: 7)),
            Self.monitor(.upperThreshold, 1, on: component("EVSE", evse: 1), "Nope"),
            Self.monitor(.lowerThreshold, 1, severity: 10),
            Self.monitor(.delta, -1, severity: 3),
            Self.monitor(.upperThreshold, 1, severity: 2, id: 99),
            Self.monitor(.delta, 0, on: component("Connector", evse: 1, connector: 1), "AvailabilityState"),
        ]))
        let results = response.setMonitoringResult
        #expect(results.map(\.status) == [.accepted, .accepted, .duplicate, .unsupportedMonitorType, .rejected,
                                            .unknownComponent, .unknownVariable, .rejected, .rejected, .rejected, .accepted])
        #expect(results.compactMap { $0.status == .accepted ? $0.id : nil } == [1, 2, 3])
        #expect(throws: Never.self) { try response.validate() }

        // Replacing monitor 1 by id keeps its id.
        let replaced = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
            Self.monitor(.upperThreshold, 15_000, id: 1),
        ]))
        #expect(replaced.setMonitoringResult.map(\.status) == [.accepted])
        let (_, pages) = model.monitoringReport(GetMonitoringReportRequest(requestId: 5), generatedAt: reportTime)
        let monitors = pages.flatMap { $0.monitor ?? [] }.flatMap(\.variableMonitoring)
        #expect(monitors.map(\.id) == [1, 2, 3])
        #expect(monitors.first?.value == 15_000)
    }

    @Test func monitorsSurviveARestartAndClearRemovesThem() throws {
        let store = try freshStore()
        do {
            let model = try openModel(store)
            _ = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
                Self.monitor(.upperThreshold, 11_000), Self.monitor(.delta, 1_000, severity: 7),
            ]))
        }
        let restarted = try openModel(store)
        let cleared = restarted.clearVariableMonitoring(ClearVariableMonitoringRequest(id: [2, 8]))
        #expect(cleared.clearMonitoringResult.map(\.status) == [.accepted, .notFound])
        let again = try openModel(store)
        let (response, pages) = again.monitoringReport(GetMonitoringReportRequest(requestId: 1), generatedAt: reportTime)
        #expect(response.status == .accepted)
        #expect(pages.flatMap { $0.monitor ?? [] }.flatMap(\.variableMonitoring).map(\.id) == [1])
        for page in pages { #expect(throws: Never.self) { try page.validate() } }
    }

    @Test func monitoringReportFiltersAndPages() throws {
        let model = try openModel(freshStore())
        _ = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
            Self.monitor(.upperThreshold, 11_000), Self.monitor(.delta, 100),
            Self.monitor(.delta, 100, on: component("EVSE", evse: 2)),
            Self.monitor(.delta, 0, on: component("Connector", evse: 2, connector: 1), "AvailabilityState"),
        ]))
        #expect(model.setActual(VariableKey(component: "DeviceDataCtrlr", variable: "ItemsPerMessage",
                                            variableInstance: "GetReport"), "1"))
        let (_, all) = model.monitoringReport(GetMonitoringReportRequest(requestId: 9), generatedAt: reportTime)
        #expect(all.map(\.seqNo) == [0, 1, 2])
        #expect(all.map(\.tbc) == [true, true, false])
        let (_, deltas) = model.monitoringReport(GetMonitoringReportRequest(componentVariable: [
            ComponentVariableType(component: component("EVSE")),
        ], requestId: 9, monitoringCriteria: [.deltaMonitoring]), generatedAt: reportTime)
        #expect(deltas.flatMap { $0.monitor ?? [] }.flatMap(\.variableMonitoring).map(\.id) == [2, 3])
        let (none, pages) = model.monitoringReport(GetMonitoringReportRequest(requestId: 9, monitoringCriteria: [.periodicMonitoring]),
                                                   generatedAt: reportTime)
        #expect(none.status == .emptyResultSet)
        #expect(pages.isEmpty)
    }

    @Test func thresholdAndDeltaMonitorsRaiseEventsOnRealValues() throws {
        let model = try openModel(freshStore())
        _ = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
            Self.monitor(.upperThreshold, 11_000, severity: 4), Self.monitor(.delta, 1_000, severity: 6),
            Self.monitor(.delta, 0, on: component("Connector", evse: 1, connector: 1), "AvailabilityState"),
        ]))
        let power = VariableKey.evsePower(evseId: 1)
        let t = reportTime
        #expect(model.evaluateMonitors(power, "500", timestamp: t).isEmpty, "below both, moved less than the delta")
        let rising = model.evaluateMonitors(power, "11500", timestamp: t)
        #expect(rising.map(\.trigger) == [.alerting, .delta])
        #expect(rising.map(\.variableMonitoringId) == [1, 2])
        #expect(rising.first?.cleared == false)
        #expect(rising.first?.actualValue == "11500")
        #expect(rising.first?.eventNotificationType == .customMonitor)
        #expect(rising.first?.component == component("EVSE", evse: 1))
        #expect(model.evaluateMonitors(power, "11900", timestamp: t).isEmpty, "still above: no second alert")
        let falling = model.evaluateMonitors(power, "10400", timestamp: t)
        #expect(falling.map(\.trigger) == [.alerting, .delta])
        #expect(falling.first?.cleared == true)
        #expect(Set((rising + falling).map(\.eventId)).count == 4, "every event has its own id")

        let connector = VariableKey.connectorAvailabilityState(evseId: 1, connectorId: 1)
        #expect(model.evaluateMonitors(connector, "Available", timestamp: t).isEmpty)
        #expect(model.evaluateMonitors(connector, "Occupied", timestamp: t).map(\.trigger) == [.delta])
        for event in rising + falling {
            #expect(throws: Never.self) { try NotifyEventRequest(generatedAt: t, seqNo: 0, eventData: [event]).validate() }
        }
    }

    @Test func monitoringLevelAndBase() throws {
        let store = try freshStore()
        let model = try openModel(store)
        _ = model.setVariableMonitoring(SetVariableMonitoringRequest(setMonitoringData: [
            Self.monitor(.upperThreshold, 100, severity: 8),
            Self.monitor(.delta, 10, severity: 1, transaction: true),
        ]))
        #expect(model.setMonitoringLevel(SetMonitoringLevelRequest(severity: 10)).status == .rejected)
        #expect(model.setMonitoringLevel(SetMonitoringLevelRequest(severity: 5)).status == .accepted)
        let power = VariableKey.evsePower(evseId: 1)
        #expect(model.evaluateMonitors(power, "200", timestamp: reportTime).isEmpty,
                "severity 8 is below the level; the transaction-only delta waits for a transaction")
        #expect(model.evaluateMonitors(power, "300", timestamp: reportTime, transactionId: "tx-1").map(\.trigger) == [.delta])
        #expect(try openModel(store).value(.activeMonitoringLevel) == "5", "the level is kept across a restart")

        #expect(model.setMonitoringBase(SetMonitoringBaseRequest(monitoringBase: .all)).status == .accepted)
        #expect(model.monitoringReport(GetMonitoringReportRequest(requestId: 1), generatedAt: reportTime).0.status == .accepted)
        #expect(model.setMonitoringBase(SetMonitoringBaseRequest(monitoringBase: .factoryDefault)).status == .accepted)
        #expect(model.monitoringReport(GetMonitoringReportRequest(requestId: 1), generatedAt: reportTime).0.status == .emptyResultSet)
        let restarted = try openModel(store)
        #expect(restarted.value(.activeMonitoringBase) == "FactoryDefault")
        #expect(restarted.monitoringReport(GetMonitoringReportRequest(requestId: 1), generatedAt: reportTime).0.status == .emptyResultSet)
    }

    @Test func monitoringLimits() throws {
        let model = try openModel(freshStore())
        let many = SetVariableMonitoringRequest(setMonitoringData: Array(repeating: Self.monitor(.delta, 1), count: 21))
        #expect(model.limitsExceeded(many)?.callErrorCode == "OccurrenceConstraintViolation")
        #expect(model.limitsExceeded(ClearVariableMonitoringRequest(id: Array(1...20))) == nil)
    }
}
