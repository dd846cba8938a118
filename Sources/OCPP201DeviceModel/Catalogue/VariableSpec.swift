import OCPP201Messages

typealias DataType = NotifyReportRequest.ReportDataType.VariableCharacteristicsType.DataEnumType
typealias Mutability = NotifyReportRequest.ReportDataType.VariableAttributeType.MutabilityEnumType

/// Where an attribute's value comes from, which decides what a restart does with it.
enum ValueSource: Sendable, Equatable {
    /// The CSMS (or the station file at first start) sets it; stored, kept across restarts and
    /// firmware updates.
    case setting
    /// The firmware, the board file or the station identity decides it: rewritten from the
    /// catalogue at every start, never set by anyone.
    case firmware
    /// The running station reports it (`DeviceModel.setActual`). `persistent` ones (the security
    /// profile reached) are stored and survive a restart; the others (power, availability) start
    /// from the catalogue's value and live in memory only: writing every meter sample to flash
    /// would wear it for nothing.
    case station(persistent: Bool)
    /// A secret the station keeps in a file of its own (BasicAuthPassword, in the authorization
    /// key file): handed to the station's keeper (`DeviceModel.keepSecret`) when set, never
    /// written to the database nor held in memory here, so no report or copy of the database
    /// can carry it.
    case keptOutside
}

struct Characteristics: Sendable, Equatable {
    var dataType: DataType
    var unit: String?
    /// For numbers the smallest and largest value; for strings and lists the shortest and
    /// longest text (as OCPP 2.0.1 defines minLimit/maxLimit).
    var minLimit: Double?
    var maxLimit: Double?
    /// The allowed values of an OptionList, MemberList or SequenceList, comma separated.
    var valuesList: String?
    var supportsMonitoring: Bool
    /// Not reported: a SequenceList of numbers (NetworkConfigurationPriority's slots) allows
    /// these integers as its items.
    var itemRange: ClosedRange<Int>? = nil

    var allowedValues: [String]? {
        valuesList.map { $0.split(separator: ",").map { String($0) } }
    }
}

struct AttributeSpec: Sendable, Equatable {
    var type: AttributeEnumType
    var mutability: Mutability
    var source: ValueSource
    /// The value at first start (settings) or at every start (firmware, station state).
    var value: String?

    /// Reported as `persistent`: the value survives a reboot.
    var persistent: Bool {
        switch source {
        case .setting, .firmware, .keptOutside: true
        case .station(let persistent): persistent
        }
    }

    /// The value is written to the device model's table.
    var storedInDatabase: Bool { persistent && source != .keptOutside }

    /// Reported as `constant`: nothing will ever change it on this firmware and board.
    var constant: Bool { source == .firmware }
}

/// One variable of a controller's catalogue, without its component.
struct VariableSpec: Sendable {
    var name: String
    var instance: String?
    var characteristics: Characteristics
    var attributes: [AttributeSpec]
    /// A new value takes effect only at the next boot (SetVariables answers RebootRequired).
    var rebootRequired = false

    /// A value the CSMS may read and write.
    static func setting(_ name: String, instance: String? = nil, _ type: DataType, _ value: String,
                        unit: String? = nil, min: Double? = nil, max: Double? = nil, values: String? = nil,
                        itemRange: ClosedRange<Int>? = nil, reboot: Bool = false) -> VariableSpec {
        VariableSpec(name: name, instance: instance,
                     characteristics: Characteristics(dataType: type, unit: unit, minLimit: min, maxLimit: max,
                                                      valuesList: values, supportsMonitoring: true, itemRange: itemRange),
                     attributes: [AttributeSpec(type: .actual, mutability: .readWrite, source: .setting, value: value)],
                     rebootRequired: reboot)
    }

    /// A value the CSMS may write but never read back (a password).
    static func secret(_ name: String, instance: String? = nil, _ type: DataType, _ value: String,
                       min: Double? = nil, max: Double? = nil) -> VariableSpec {
        VariableSpec(name: name, instance: instance,
                     characteristics: Characteristics(dataType: type, minLimit: min, maxLimit: max, supportsMonitoring: false),
                     attributes: [AttributeSpec(type: .actual, mutability: .writeOnly, source: .keptOutside, value: value)])
    }

    /// A read-only value the firmware, board or identity fixes.
    static func fixed(_ name: String, instance: String? = nil, _ type: DataType, _ value: String,
                      unit: String? = nil, min: Double? = nil, max: Double? = nil, values: String? = nil) -> VariableSpec {
        VariableSpec(name: name, instance: instance,
                     characteristics: Characteristics(dataType: type, unit: unit, minLimit: min, maxLimit: max,
                                                      valuesList: values, supportsMonitoring: false),
                     attributes: [AttributeSpec(type: .actual, mutability: .readOnly, source: .firmware, value: value)])
    }

    /// A read-only value the running station reports (availability, power, counts).
    static func state(_ name: String, instance: String? = nil, _ type: DataType, _ initial: String,
                      unit: String? = nil, min: Double? = nil, max: Double? = nil, values: String? = nil,
                      persistent: Bool = false) -> VariableSpec {
        VariableSpec(name: name, instance: instance,
                     characteristics: Characteristics(dataType: type, unit: unit, minLimit: min, maxLimit: max,
                                                      valuesList: values, supportsMonitoring: true),
                     attributes: [AttributeSpec(type: .actual, mutability: .readOnly,
                                                source: .station(persistent: persistent), value: initial)])
    }

    /// Adds a read-only attribute fixed by the firmware or board (`EVSE.Power`'s MaxSet).
    func with(_ type: AttributeEnumType, fixed value: String?) -> VariableSpec {
        guard let value else { return self }
        var copy = self
        copy.attributes.append(AttributeSpec(type: type, mutability: .readOnly, source: .firmware, value: value))
        return copy
    }
}

/// A component with its variables, as the catalogue lists it.
struct ComponentSpec: Sendable {
    var name: String
    var instance: String? = nil
    var evseId: Int? = nil
    var connectorId: Int? = nil
    var variables: [VariableSpec]

    var key: ComponentKey { ComponentKey(name: name, instance: instance, evseId: evseId, connectorId: connectorId) }
}

/// A variable with its component: one row of the device model.
struct VariableDefinition: Sendable {
    var key: VariableKey
    var spec: VariableSpec

    func attribute(_ type: AttributeEnumType) -> AttributeSpec? { spec.attributes.first { $0.type == type } }
}

/// Number formatting for catalogue values: `22000` rather than `22000.0`.
func decimalText(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}
