import OCPP201Messages
import Locking
import Storage

typealias GetVariableStatus = GetVariablesResponse.GetVariableResultType.GetVariableStatusEnumType
typealias SetVariableStatus = SetVariablesResponse.SetVariableResultType.SetVariableStatusEnumType

extension DeviceModel {
    /// Answers GetVariables (use case B06): one result per requested item, in order. A missing
    /// attributeType means Actual. Write-only values are never returned (Rejected); values longer
    /// than DeviceDataCtrlr.ReportingValueSize are cut to it. Check `limitsExceeded` first.
    public func getVariables(_ request: GetVariablesRequest) -> GetVariablesResponse {
        state.locked { s in
            let valueSize = s.integer(.reportingValueSize, fallback: StationVariables.reportingValueSize)
            return GetVariablesResponse(getVariableResult: request.getVariableData.map { item -> GetVariablesResponse.GetVariableResultType in
                func result(_ status: GetVariableStatus, _ value: String? = nil, reason: String? = nil,
                            _ detail: String? = nil) -> GetVariablesResponse.GetVariableResultType {
                    GetVariablesResponse.GetVariableResultType(
                        attributeStatusInfo: reason.map { StatusInfoType(reasonCode: $0, additionalInfo: detail) },
                        attributeStatus: status, attributeType: item.attributeType, attributeValue: value,
                        component: item.component, variable: item.variable)
                }
                let type = item.attributeType ?? .actual
                switch s.lookup(item.component, item.variable, type) {
                case .unknownComponent:
                    return result(.unknownComponent)
                case .unknownVariable:
                    return result(.unknownVariable)
                case .unsupportedAttribute:
                    return result(.notSupportedAttributeType, reason: "UnsupportedParam",
                                  "\(item.variable.name) has no \(type.rawValue) attribute")
                case .found(let variable, let attribute):
                    if attribute.mutability == .writeOnly {
                        return result(.rejected, reason: "WriteOnly", "\(item.variable.name) can be written, not read")
                    }
                    do {
                        let value = try s.readValue(variable, type) ?? ""
                        return result(.accepted, String(value.prefix(max(0, valueSize))))
                    } catch {
                        return result(.rejected, reason: "InternalError", String("could not read the value: \(error)".prefix(512)))
                    }
                }
            })
        }
    }

    /// Answers SetVariables (use case B05): each item is checked against the variable's
    /// mutability and characteristics and either applied whole or not at all. The accepted
    /// values of one request are stored in one SQLite transaction; if that write fails, every
    /// one of them is answered Rejected and nothing changes. Variables that take effect at the
    /// next boot answer RebootRequired (their new value is stored and reported). `onChange`
    /// handlers hear every Actual value that changed, after the response is built.
    public func setVariables(_ request: SetVariablesRequest) -> SetVariablesResponse {
        let (response, changed, handlers) = state.locked { s -> (SetVariablesResponse, [(VariableKey, String)], [@Sendable (VariableKey, String) -> Void]) in
            var results: [SetVariablesResponse.SetVariableResultType] = []
            // Accepted changes, in request order: (result index, variable, attribute, value, the value before).
            var pending: [(index: Int, variable: VariableState, type: AttributeEnumType, value: String, stored: Bool,
                           before: String?)] = []
            var secretsChanged: [VariableKey] = []
            let valueSize = s.integer(.configurationValueSize, fallback: StationVariables.configurationValueSize)
            for item in request.setVariableData {
                func result(_ status: SetVariableStatus, reason: String? = nil,
                            _ detail: String? = nil) -> SetVariablesResponse.SetVariableResultType {
                    SetVariablesResponse.SetVariableResultType(
                        attributeType: item.attributeType, attributeStatus: status,
                        attributeStatusInfo: reason.map { StatusInfoType(reasonCode: $0, additionalInfo: detail) },
                        component: item.component, variable: item.variable)
                }
                let type = item.attributeType ?? .actual
                switch s.lookup(item.component, item.variable, type) {
                case .unknownComponent:
                    results.append(result(.unknownComponent))
                case .unknownVariable:
                    results.append(result(.unknownVariable))
                case .unsupportedAttribute:
                    results.append(result(.notSupportedAttributeType, reason: "UnsupportedParam",
                                          "\(item.variable.name) has no \(type.rawValue) attribute"))
                case .found(let variable, let attribute):
                    if attribute.mutability == .readOnly {
                        results.append(result(.rejected, reason: "ReadOnly", "\(item.variable.name) is read-only"))
                        continue
                    }
                    if item.attributeValue.count > valueSize {
                        results.append(result(.rejected, reason: "InvalidValue",
                                              "longer than ConfigurationValueSize (\(valueSize))"))
                        continue
                    }
                    switch variable.definition.spec.characteristics.validate(item.attributeValue) {
                    case .failure(let rejection):
                        results.append(SetVariablesResponse.SetVariableResultType(
                            attributeType: item.attributeType, attributeStatus: .rejected,
                            attributeStatusInfo: rejection.statusInfo, component: item.component, variable: item.variable))
                    case .success(let value):
                        if let check = s.settingChecks[variable.definition.key], let refusal = check(value) {
                            results.append(result(.rejected, reason: "InvalidValue", String(refusal.prefix(512))))
                            continue
                        }
                        if attribute.source == .keptOutside {
                            guard let keep = s.secretKeepers[variable.definition.key] else {
                                results.append(result(.rejected, reason: "NotSupported", "\(item.variable.name) cannot be stored by this station"))
                                continue
                            }
                            do { try keep(value) } catch {
                                results.append(result(.rejected, reason: "InternalError", String("could not store the value: \(error)".prefix(512))))
                                continue
                            }
                            // Heard by the change handlers (the connection takes it), never kept here.
                            secretsChanged.append(variable.definition.key)
                            results.append(result(.accepted))
                            continue
                        }
                        pending.append((results.count, variable, type, value, s.isStored(attribute),
                                        try? s.readValue(variable, type)))
                        results.append(result(variable.definition.spec.rebootRequired ? .rebootRequired : .accepted))
                    }
                }
            }
            do {
                try store.setValues(pending.filter(\.stored).map {
                    StoredValueChange(key: $0.variable.definition.key.stored, attributeType: $0.type.rawValue, value: $0.value)
                })
            } catch {
                for change in pending {
                    results[change.index].attributeStatus = .rejected
                    results[change.index].attributeStatusInfo = StatusInfoType(
                        reasonCode: "InternalError", additionalInfo: String("could not store the value: \(error)".prefix(512)))
                }
                return (SetVariablesResponse(setVariableResult: results), secretsChanged.map { ($0, "") }, s.changeHandlers)
            }
            // A secret's handlers hear that it changed, not its value.
            var changed: [(VariableKey, String)] = secretsChanged.map { ($0, "") }
            for change in pending {
                s.holdInMemory(change.variable, change.type, change.value)
                if change.type == .actual, change.before != change.value {
                    changed.append((change.variable.definition.key, change.value))
                }
            }
            return (SetVariablesResponse(setVariableResult: results), changed, s.changeHandlers)
        }
        for (key, value) in changed {
            for handler in handlers { handler(key, value) }
        }
        return response
    }
}

extension VariableKey {
    static let reportingValueSize = VariableKey(component: "DeviceDataCtrlr", variable: "ReportingValueSize")
    static let configurationValueSize = VariableKey(component: "DeviceDataCtrlr", variable: "ConfigurationValueSize")
}
