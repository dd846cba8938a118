import OCPP201Messages
import Locking
import OCPPJSON
import Storage

typealias SetMonitoringResult = SetVariableMonitoringResponse.SetMonitoringResultType
typealias MonitoringData = NotifyMonitoringReportRequest.MonitoringDataType
public typealias MonitorEvent = NotifyEventRequest.EventDataType

/// Monitoring basics (OCPP 2.0.1 use cases N02–N05, N07): threshold and delta monitors the CSMS
/// sets on variables, kept in SQLite, and the NotifyEvent data they raise on real values.
/// Periodic monitors are not offered (UnsupportedMonitorType). This firmware has no
/// preconfigured or hard-wired monitors, so SetMonitoringBase FactoryDefault and HardWiredOnly
/// both come down to removing the CSMS's monitors.
extension DeviceModel {
    /// Answers SetVariableMonitoring: each monitor is checked and stored, or refused with its
    /// status (UnknownComponent, UnknownVariable, UnsupportedMonitorType, Rejected, Duplicate).
    /// The accepted ones of one request are stored in one transaction.
    public func setVariableMonitoring(_ request: SetVariableMonitoringRequest) -> SetVariableMonitoringResponse {
        state.locked { s in
            var results: [SetMonitoringResult] = []
            var accepted: [(index: Int, monitor: VariableMonitor)] = []
            var monitors = s.monitors
            var nextId = (monitors.map(\.id).max() ?? 0) + 1
            for item in request.setMonitoringData {
                func result(_ status: SetMonitoringResult.SetMonitoringStatusEnumType, id: Int? = nil,
                            reason: String? = nil, _ detail: String? = nil) -> SetMonitoringResult {
                    SetMonitoringResult(id: id ?? item.id,
                                        statusInfo: reason.map { StatusInfoType(reasonCode: $0, additionalInfo: detail) },
                                        status: status, type: item.type, component: item.component,
                                        variable: item.variable, severity: item.severity)
                }
                let variable: VariableState
                switch s.lookup(item.component, item.variable, .actual) {
                case .unknownComponent: results.append(result(.unknownComponent)); continue
                case .unknownVariable, .unsupportedAttribute: results.append(result(.unknownVariable)); continue
                case .found(let found, _): variable = found
                }
                let characteristics = variable.definition.spec.characteristics
                let numeric = characteristics.dataType == .integer || characteristics.dataType == .decimal
                if let refusal = Self.refusal(item, supportsMonitoring: characteristics.supportsMonitoring, numeric: numeric) {
                    results.append(result(refusal.status, reason: refusal.reason, refusal.detail))
                    continue
                }
                let key = variable.definition.key
                if let id = item.id {
                    guard let existing = monitors.first(where: { $0.id == id }) else {
                        results.append(result(.rejected, reason: "InvalidValue", "no monitor \(id) to replace"))
                        continue
                    }
                    guard existing.key == key, existing.origin == .customMonitor else {
                        results.append(result(.rejected, reason: "InvalidValue", "monitor \(id) watches something else"))
                        continue
                    }
                }
                if monitors.contains(where: { $0.key == key && $0.type == item.type && $0.severity == item.severity && $0.id != item.id }) {
                    results.append(result(.duplicate))
                    continue
                }
                let id = item.id ?? nextId
                if item.id == nil { nextId += 1 }
                let monitor = VariableMonitor(id: id, key: key, type: item.type, value: item.value, severity: item.severity,
                                              transactionOnly: item.transaction ?? false, origin: .customMonitor)
                monitors.removeAll { $0.id == id }
                monitors.append(monitor)
                accepted.append((results.count, monitor))
                results.append(result(.accepted, id: id))
            }
            do {
                try store.putMonitors(accepted.map(\.monitor.stored))
            } catch {
                for change in accepted {
                    results[change.index].status = .rejected
                    results[change.index].statusInfo = StatusInfoType(reasonCode: "InternalError",
                                                                      additionalInfo: String("\(error)".prefix(512)))
                }
                return SetVariableMonitoringResponse(setMonitoringResult: results)
            }
            for (_, monitor) in accepted {
                s.monitorStates[monitor.id] = MonitorState(reference: s.currentValue(monitor.key, .actual))
            }
            s.monitors = monitors.sorted { $0.id < $1.id }
            return SetVariableMonitoringResponse(setMonitoringResult: results)
        }
    }

    private static func refusal(_ item: SetVariableMonitoringRequest.SetMonitoringDataType, supportsMonitoring: Bool,
                                numeric: Bool) -> (status: SetMonitoringResult.SetMonitoringStatusEnumType, reason: String, detail: String)? {
        if !supportsMonitoring { return (.rejected, "UnsupportedParam", "\(item.variable.name) cannot be monitored") }
        switch item.type {
        case .periodic, .periodicClockAligned:
            return (.unsupportedMonitorType, "UnsupportedParam", "periodic monitors are not offered")
        case .upperThreshold, .lowerThreshold:
            if !numeric { return (.rejected, "UnsupportedParam", "a threshold needs a numeric variable") }
        case .delta:
            if item.value < 0 { return (.rejected, "ValuePositiveOnly", "a delta is not negative") }
        }
        if !(0...9).contains(item.severity) { return (.rejected, "ValueOutOfRange", "severity \(item.severity) is not 0 to 9") }
        if !item.value.isFinite { return (.rejected, "InvalidValue", "the monitor value is not a number") }
        return nil
    }

    /// Answers ClearVariableMonitoring: Accepted and removed, NotFound, or Rejected for a
    /// hard-wired monitor.
    public func clearVariableMonitoring(_ request: ClearVariableMonitoringRequest) -> ClearVariableMonitoringResponse {
        state.locked { s in
            var results: [ClearVariableMonitoringResponse.ClearMonitoringResultType] = []
            var removing: [Int] = []
            for id in request.id {
                guard let monitor = s.monitors.first(where: { $0.id == id }), !removing.contains(id) else {
                    results.append(.init(status: .notFound, id: id))
                    continue
                }
                if monitor.origin == .hardWiredMonitor {
                    results.append(.init(status: .rejected, id: id,
                                         statusInfo: StatusInfoType(reasonCode: "ReadOnly", additionalInfo: "hard-wired monitor")))
                    continue
                }
                removing.append(id)
                results.append(.init(status: .accepted, id: id))
            }
            do {
                try store.removeMonitors(ids: removing)
            } catch {
                return ClearVariableMonitoringResponse(clearMonitoringResult: results.map { result in
                    guard result.status == .accepted else { return result }
                    return .init(status: .rejected, id: result.id,
                                 statusInfo: StatusInfoType(reasonCode: "InternalError", additionalInfo: String("\(error)".prefix(512))))
                })
            }
            s.monitors.removeAll { removing.contains($0.id) }
            for id in removing { s.monitorStates[id] = nil }
            return ClearVariableMonitoringResponse(clearMonitoringResult: results)
        }
    }

    /// Answers SetMonitoringBase: All keeps every monitor; FactoryDefault and HardWiredOnly remove
    /// the CSMS's monitors (there are no preconfigured ones to restore or disable).
    public func setMonitoringBase(_ request: SetMonitoringBaseRequest) -> SetMonitoringBaseResponse {
        state.locked { s in
            let removing = request.monitoringBase == .all ? [] : s.monitors.filter { $0.origin == .customMonitor }.map(\.id)
            do {
                try store.removeMonitors(ids: removing)
                try store.setValues([StoredValueChange(key: VariableKey.activeMonitoringBase.stored, attributeType: "Actual",
                                                       value: request.monitoringBase.rawValue)])
            } catch {
                return SetMonitoringBaseResponse(status: .rejected, statusInfo: StatusInfoType(
                    reasonCode: "InternalError", additionalInfo: String("\(error)".prefix(512))))
            }
            s.monitors.removeAll { removing.contains($0.id) }
            for id in removing { s.monitorStates[id] = nil }
            if let base = s.variable(.activeMonitoringBase) { s.holdInMemory(base, .actual, request.monitoringBase.rawValue) }
            return SetMonitoringBaseResponse(status: .accepted)
        }
    }

    /// Answers SetMonitoringLevel: events of a severity number above `severity` (less severe)
    /// are not reported from now on.
    public func setMonitoringLevel(_ request: SetMonitoringLevelRequest) -> SetMonitoringLevelResponse {
        guard (0...9).contains(request.severity) else {
            return SetMonitoringLevelResponse(status: .rejected, statusInfo: StatusInfoType(
                reasonCode: "ValueOutOfRange", additionalInfo: "severity \(request.severity) is not 0 to 9"))
        }
        return setActual(.activeMonitoringLevel, String(request.severity))
            ? SetMonitoringLevelResponse(status: .accepted)
            : SetMonitoringLevelResponse(status: .rejected, statusInfo: StatusInfoType(reasonCode: "InternalError"))
    }

    /// Answers GetMonitoringReport and builds its NotifyMonitoringReport pages (same paging as
    /// NotifyReport): the monitors matching any criterion and any componentVariable given.
    public func monitoringReport(_ request: GetMonitoringReportRequest,
                                 generatedAt: String) -> (GetMonitoringReportResponse, [NotifyMonitoringReportRequest]) {
        state.locked { s in
            let criteria = request.monitoringCriteria ?? []
            let filters = request.componentVariable ?? []
            let chosen = s.monitors.filter { monitor in
                let kind: GetMonitoringReportRequest.MonitoringCriterionEnumType = switch monitor.type {
                case .upperThreshold, .lowerThreshold: .thresholdMonitoring
                case .delta: .deltaMonitoring
                case .periodic, .periodicClockAligned: .periodicMonitoring
                }
                return (criteria.isEmpty || criteria.contains(kind))
                    && (filters.isEmpty || filters.contains { Self.matches(monitor.key, $0) })
            }
            // One entry per variable, in catalogue order, with its monitors by id.
            let byKey = Dictionary(grouping: chosen, by: \.key)
            let entries = s.definitions.map(\.key).compactMap { key -> MonitoringData? in
                guard let monitors = byKey[key] else { return nil }
                return MonitoringData(component: key.componentType, variable: key.variableType,
                                      variableMonitoring: monitors.sorted { $0.id < $1.id }.map {
                                          .init(id: $0.id, transaction: $0.transactionOnly, value: $0.value,
                                                type: $0.type, severity: $0.severity)
                                      })
            }
            guard !entries.isEmpty else { return (GetMonitoringReportResponse(status: .emptyResultSet), []) }
            let itemLimit = max(1, s.integer(.itemsPerReport, fallback: StationVariables.itemsPerReport))
            let byteLimit = s.integer(.bytesPerReport, fallback: StationVariables.bytesPerMessage)
            let envelope = JSONWriter.write(NotifyMonitoringReportRequest(monitor: [], requestId: request.requestId, tbc: false,
                                                                          seqNo: entries.count, generatedAt: generatedAt).toJSON()).count
                + Self.frameOverhead
            let groups = Self.group(entries, itemLimit: itemLimit, byteLimit: byteLimit, envelope: envelope) {
                JSONWriter.write($0.toJSON()).count + 1
            }
            let pages = groups.enumerated().map { seqNo, group in
                NotifyMonitoringReportRequest(monitor: group, requestId: request.requestId, tbc: seqNo < groups.count - 1,
                                              seqNo: seqNo, generatedAt: generatedAt)
            }
            return (GetMonitoringReportResponse(status: .accepted), pages)
        }
    }

    /// Whether a SetVariableMonitoring / ClearVariableMonitoring request is larger than
    /// MonitoringCtrlr.ItemsPerMessage / BytesPerMessage of that message allow.
    public func limitsExceeded(_ request: SetVariableMonitoringRequest, messageBytes: Int? = nil) -> DeviceModelLimitViolation? {
        monitoringLimits(items: request.setMonitoringData.count,
                         bytes: messageBytes ?? JSONWriter.write(request.toJSON()).count, instance: "SetVariableMonitoring")
    }

    public func limitsExceeded(_ request: ClearVariableMonitoringRequest, messageBytes: Int? = nil) -> DeviceModelLimitViolation? {
        monitoringLimits(items: request.id.count,
                         bytes: messageBytes ?? JSONWriter.write(request.toJSON()).count, instance: "ClearVariableMonitoring")
    }

    private func monitoringLimits(items: Int, bytes: Int, instance: String) -> DeviceModelLimitViolation? {
        let (itemLimit, byteLimit) = state.locked { s in
            (s.integer(VariableKey(component: "MonitoringCtrlr", variable: "ItemsPerMessage", variableInstance: instance), fallback: .max),
             s.integer(VariableKey(component: "MonitoringCtrlr", variable: "BytesPerMessage", variableInstance: instance), fallback: .max))
        }
        if items > itemLimit { return .tooManyItems(count: items, limit: itemLimit) }
        if bytes > byteLimit { return .tooManyBytes(count: bytes, limit: byteLimit) }
        return nil
    }

    /// Checks `newValue` of `key` against the monitors on it and returns the NotifyEvent data to
    /// send: a threshold monitor raises an event when the value crosses it and a `cleared` one
    /// when it comes back; a delta monitor raises one each time the value moved by its amount
    /// from the last value reported (any change for a non-numeric variable). Monitors whose
    /// severity is above MonitoringCtrlr.ActiveMonitoringLevel stay silent, transaction-only ones
    /// outside a transaction too. The variable's own value is not changed (see `setActual`).
    public func evaluateMonitors(_ key: VariableKey, _ newValue: String, timestamp: String,
                                 transactionId: String? = nil) -> [MonitorEvent] {
        state.locked { s in
            let level = s.integer(.activeMonitoringLevel, fallback: 9)
            let number = Double(newValue)
            var events: [MonitorEvent] = []
            for monitor in s.monitors where monitor.key == key {
                var memory = s.monitorStates[monitor.id] ?? MonitorState(reference: nil)
                defer { s.monitorStates[monitor.id] = memory }
                let active = monitor.severity <= level && (!monitor.transactionOnly || transactionId != nil)
                func event(_ trigger: MonitorEvent.EventTriggerEnumType, cleared: Bool? = nil) -> MonitorEvent {
                    MonitorEvent(eventId: 0, timestamp: timestamp, trigger: trigger,
                                        actualValue: String(newValue.prefix(2500)), cleared: cleared,
                                        transactionId: transactionId, component: key.componentType,
                                        variableMonitoringId: monitor.id, eventNotificationType: monitor.origin,
                                        variable: key.variableType)
                }
                switch monitor.type {
                case .upperThreshold, .lowerThreshold:
                    guard let number else { continue }
                    let beyond = monitor.type == .upperThreshold ? number > monitor.value : number < monitor.value
                    if beyond, !memory.tripped {
                        memory.tripped = true
                        if active { events.append(event(.alerting, cleared: false)) }
                    } else if !beyond, memory.tripped {
                        memory.tripped = false
                        if active { events.append(event(.alerting, cleared: true)) }
                    }
                case .delta:
                    let moved: Bool
                    if let number, let reference = memory.reference.flatMap({ Double($0) }) {
                        moved = abs(number - reference) >= monitor.value
                    } else {
                        moved = memory.reference != newValue
                    }
                    if moved {
                        memory.reference = newValue
                        if active { events.append(event(.delta)) }
                    }
                case .periodic, .periodicClockAligned:
                    continue
                }
            }
            // Event ids count up across the station's life in memory; the CSMS pairs an alert
            // with its `cleared` by the monitor id, not by the event id.
            for index in events.indices {
                s.nextEventId += 1
                events[index].eventId = s.nextEventId
            }
            return events
        }
    }

    /// Splits `items` into pages of at most `itemLimit` items and `byteLimit` bytes.
    static func group<Item>(_ items: [Item], itemLimit: Int, byteLimit: Int, envelope: Int,
                            size: (Item) -> Int) -> [[Item]] {
        var groups: [[Item]] = [[]]
        var groupBytes = envelope
        for item in items {
            let bytes = size(item)
            if let last = groups.last, !last.isEmpty, last.count >= itemLimit || groupBytes + bytes > byteLimit {
                groups.append([])
                groupBytes = envelope
            }
            groups[groups.count - 1].append(item)
            groupBytes += bytes
        }
        return groups
    }
}

/// What a monitor remembers between two values: whether its threshold is crossed, and the
/// value a delta is measured from.
struct MonitorState: Sendable {
    var reference: String?
    var tripped = false
}

extension VariableKey {
    public static let activeMonitoringBase = VariableKey(component: "MonitoringCtrlr", variable: "ActiveMonitoringBase")
    public static let activeMonitoringLevel = VariableKey(component: "MonitoringCtrlr", variable: "ActiveMonitoringLevel")
}
