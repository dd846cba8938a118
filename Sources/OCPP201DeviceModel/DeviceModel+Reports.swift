import OCPP201Messages
import Locking
import OCPPJSON

typealias ReportData = NotifyReportRequest.ReportDataType
typealias Criterion = GetReportRequest.ComponentCriterionEnumType

extension DeviceModel {
    /// The component criteria GetReport honours. `Active` is not among them: no component of
    /// this firmware reports an Active variable, so such a request is answered NotSupported
    /// rather than with a report that is always empty.
    public static let supportedCriteria: Set<GetReportRequest.ComponentCriterionEnumType> = [.available, .enabled, .problem]

    /// Answers GetBaseReport (use case B07) and builds the NotifyReport pages to send after it:
    /// ConfigurationInventory lists every variable the CSMS can set, FullInventory every
    /// variable, SummaryInventory availability and problems of the station, its EVSEs and
    /// connectors. `generatedAt` is the RFC 3339 time the pages carry.
    public func baseReport(_ request: GetBaseReportRequest,
                           generatedAt: String) -> (GetBaseReportResponse, [NotifyReportRequest]) {
        state.locked { s in
            let variables = s.allVariables.filter { variable in
                switch request.reportBase {
                case .fullInventory: true
                case .configurationInventory: variable.definition.spec.attributes.contains { $0.mutability != .readOnly }
                case .summaryInventory: Self.inSummary(variable.definition.key)
                }
            }
            let pages = Self.pages(variables.map { s.reportData($0) }, requestId: request.requestId,
                                   generatedAt: generatedAt, s)
            return (GetBaseReportResponse(status: pages.isEmpty ? .emptyResultSet : .accepted), pages)
        }
    }

    /// Answers GetReport (use case B08): the variables of the components that meet any of
    /// `componentCriteria` and match any of `componentVariable` (both when both are given).
    /// A component or variable named without instance, EVSE or connector matches all of them.
    /// NotSupported for a criterion this firmware cannot judge, EmptyResultSet when nothing
    /// matches (and no pages then).
    public func report(_ request: GetReportRequest, generatedAt: String) -> (GetReportResponse, [NotifyReportRequest]) {
        if let criteria = request.componentCriteria,
           let unsupported = criteria.first(where: { !Self.supportedCriteria.contains($0) }) {
            return (GetReportResponse(status: .notSupported, statusInfo: StatusInfoType(
                reasonCode: "UnsupportedParam", additionalInfo: "component criterion \(unsupported.rawValue) is not supported")), [])
        }
        return state.locked { s in
            let criteria = request.componentCriteria ?? []
            let componentsMeeting: Set<ComponentKey>? = criteria.isEmpty ? nil : Set(s.definitions.compactMap { v -> ComponentKey? in
                let key = v.key
                guard key.variableInstance == nil, criteria.contains(where: { $0.rawValue == key.variable }),
                      s.currentValue(key, .actual) == "true" else { return nil }
                return key.componentKey
            })
            let filters = request.componentVariable ?? []
            let variables = s.allVariables.filter { variable in
                let key = variable.definition.key
                if let componentsMeeting, !componentsMeeting.contains(key.componentKey) { return false }
                return filters.isEmpty || filters.contains { Self.matches(key, $0) }
            }
            let pages = Self.pages(variables.map { s.reportData($0) }, requestId: request.requestId,
                                   generatedAt: generatedAt, s)
            return (GetReportResponse(status: pages.isEmpty ? .emptyResultSet : .accepted), pages)
        }
    }

    /// What SummaryInventory lists: whether the station, its EVSEs and connectors can charge,
    /// and the problem conditions any component reports.
    static func inSummary(_ key: VariableKey) -> Bool {
        switch key.variable {
        case "AvailabilityState", "Available": ["ChargingStation", "EVSE", "Connector"].contains(key.component)
        case "Problem", "Tripped", "Overload": true
        default: false
        }
    }

    static func matches(_ key: VariableKey, _ filter: ComponentVariableType) -> Bool {
        let component = filter.component
        guard key.component == component.name else { return false }
        if let instance = component.instance, key.componentInstance != instance { return false }
        if let evse = component.evse {
            guard key.evseId == evse.id else { return false }
            if let connector = evse.connectorId, key.connectorId != connector { return false }
        }
        if let variable = filter.variable {
            guard key.variable == variable.name else { return false }
            if let instance = variable.instance, key.variableInstance != instance { return false }
        }
        return true
    }

    /// Splits report data into NotifyReport pages of at most DeviceDataCtrlr.ItemsPerMessage
    /// [GetReport] items and BytesPerMessage[GetReport] bytes (the whole OCPP-J frame), `seqNo`
    /// from 0, `tbc` true on every page but the last. An item too large for a page on its own
    /// still goes out, alone: the CSMS asked for it, and dropping it silently would be worse.
    static func pages(_ items: [ReportData], requestId: Int, generatedAt: String,
                      _ s: ModelState) -> [NotifyReportRequest] {
        guard !items.isEmpty else { return [] }
        let itemLimit = max(1, s.integer(.itemsPerReport, fallback: StationVariables.itemsPerReport))
        let byteLimit = s.integer(.bytesPerReport, fallback: StationVariables.bytesPerMessage)
        // Bytes of a page without items, with the largest seqNo and tbc it can carry, plus the
        // frame around the payload: [2,"<message id, up to 36 characters>","NotifyReport",…].
        let envelope = JSONWriter.write(NotifyReportRequest(requestId: requestId, generatedAt: generatedAt,
                                                            reportData: [], tbc: false, seqNo: items.count).toJSON()).count
            + frameOverhead
        let groups = group(items, itemLimit: itemLimit, byteLimit: byteLimit, envelope: envelope) {
            JSONWriter.write($0.toJSON()).count + 1  // the comma between items
        }
        return groups.enumerated().map { seqNo, group in
            NotifyReportRequest(requestId: requestId, generatedAt: generatedAt, reportData: group,
                                tbc: seqNo < groups.count - 1, seqNo: seqNo)
        }
    }

    /// `[2,"` + a 36-character message id + `","NotifyReport",` + `]`, rounded up.
    static let frameOverhead = 64
}

extension ModelState {
    /// A variable as NotifyReport describes it: every attribute (write-only ones without their
    /// value) and its characteristics.
    func reportData(_ variable: VariableState) -> ReportData {
        let key = variable.definition.key
        let valueSize = integer(.reportingValueSize, fallback: StationVariables.reportingValueSize)
        let ch = variable.definition.spec.characteristics
        return ReportData(
            component: key.componentType, variable: key.variableType,
            variableAttribute: variable.definition.spec.attributes.map { attribute in
                ReportData.VariableAttributeType(
                    type: attribute.type,
                    value: attribute.mutability == .writeOnly ? nil
                        : (try? readValue(variable, attribute.type))?.map { String($0.prefix(max(0, valueSize))) },
                    mutability: attribute.mutability, persistent: attribute.persistent, constant: attribute.constant)
            },
            variableCharacteristics: ReportData.VariableCharacteristicsType(
                unit: ch.unit, dataType: ch.dataType, minLimit: ch.minLimit, maxLimit: ch.maxLimit,
                valuesList: ch.valuesList, supportsMonitoring: ch.supportsMonitoring))
    }
}

extension VariableKey {
    static let itemsPerReport = VariableKey(component: "DeviceDataCtrlr", variable: "ItemsPerMessage", variableInstance: "GetReport")
    static let bytesPerReport = VariableKey(component: "DeviceDataCtrlr", variable: "BytesPerMessage", variableInstance: "GetReport")
}
