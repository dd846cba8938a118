import OCPP201Messages

/// Names one variable of the device model: its component (name, instance, EVSE, connector) and
/// the variable (name, instance). Absent parts are `nil`, as in the OCPP messages.
public struct VariableKey: Hashable, Sendable, CustomStringConvertible {
    public var component: String
    public var evseId: Int?
    public var connectorId: Int?
    public var componentInstance: String?
    public var variable: String
    public var variableInstance: String?

    public init(component: String, evseId: Int? = nil, connectorId: Int? = nil, componentInstance: String? = nil,
                variable: String, variableInstance: String? = nil) {
        self.component = component
        self.evseId = evseId
        self.connectorId = connectorId
        self.componentInstance = componentInstance
        self.variable = variable
        self.variableInstance = variableInstance
    }

    /// The key a CSMS means with this component and variable.
    public init(component: ComponentType, variable: VariableType) {
        self.init(component: component.name, evseId: component.evse?.id, connectorId: component.evse?.connectorId,
                  componentInstance: component.instance, variable: variable.name, variableInstance: variable.instance)
    }

    public var componentType: ComponentType {
        ComponentType(evse: evseId.map { EVSEType(id: $0, connectorId: connectorId) }, name: component,
                      instance: componentInstance)
    }

    public var variableType: VariableType { VariableType(name: variable, instance: variableInstance) }

    /// The component part alone: what decides UnknownComponent against UnknownVariable.
    var componentKey: ComponentKey {
        ComponentKey(name: component, instance: componentInstance, evseId: evseId, connectorId: connectorId)
    }

    /// `EVSE[1].AvailabilityState`, `Connector[1/1].ConnectorType`, `DeviceDataCtrlr.ItemsPerMessage[GetReport]`.
    public var description: String {
        var text = component
        if let componentInstance { text += "(\(componentInstance))" }
        if let evseId { text += connectorId.map { "[\(evseId)/\($0)]" } ?? "[\(evseId)]" }
        text += "." + variable
        if let variableInstance { text += "[\(variableInstance)]" }
        return text
    }
}

extension VariableKey {
    /// A total order of keys (component, EVSE, connector, component instance, variable, variable
    /// instance; an absent part first), for the device model's binary search.
    func sortsBefore(_ other: VariableKey) -> Bool {
        func compare<T: Comparable>(_ a: T?, _ b: T?) -> Int {
            switch (a, b) {
            case (nil, nil): 0
            case (nil, _): -1
            case (_, nil): 1
            case let (a?, b?): a < b ? -1 : (a == b ? 0 : 1)
            }
        }
        var order = compare(component, other.component)
        if order == 0 { order = compare(evseId, other.evseId) }
        if order == 0 { order = compare(connectorId, other.connectorId) }
        if order == 0 { order = compare(componentInstance, other.componentInstance) }
        if order == 0 { order = compare(variable, other.variable) }
        if order == 0 { order = compare(variableInstance, other.variableInstance) }
        return order < 0
    }
}

/// A component of the device model: controller name, instance, EVSE and connector.
struct ComponentKey: Hashable, Sendable {
    var name: String
    var instance: String?
    var evseId: Int?
    var connectorId: Int?
}
