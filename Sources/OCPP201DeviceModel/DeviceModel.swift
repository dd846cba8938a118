import OCPP201Messages
import Storage
import Locking
import Synchronization

/// The OCPP 2.0.1 device model of this charging station: every component and variable the
/// firmware offers (the catalogue in `Catalogue/`) and their values. Settings and persistent
/// station state are kept in SQLite and read from it when asked; only what lives in memory anyway
/// (availability, power) is held here (`ModelState`).
///
/// The 2.0.1 adapter answers GetVariables, SetVariables, GetBaseReport and GetReport with it and
/// reads its settings through `variables`; the station reports what it owns (availability,
/// power, counts) with `setActual`. All calls are synchronous and thread-safe: one mutex guards
/// the state, so no call waits for another actor. `onChange` handlers run after that mutex is
/// released; `provideActual` providers and `validateSetting` checks run while it is held and
/// must not call back into the device model.
public final class DeviceModel: Sendable {
    let store: DeviceModelStore
    let state: Mutex<ModelState>

    /// Opens the device model on `store`. On the first start every variable is seeded with its
    /// catalogue value (or its entry in `initialValues`, e.g. settings carried over from the
    /// station file or the 1.6 configuration). On later starts stored settings are kept,
    /// variables a newer firmware added are seeded, variables of EVSEs no longer on the board are
    /// removed, and read-only values from the firmware, board and `identity` are refreshed.
    ///
    /// Throws `DeviceModelError` for a bad layout or initial value (nothing is written then), or
    /// the store's error.
    public init(store: DeviceModelStore, layout: StationLayout, identity: StationIdentity,
                initialValues: [VariableKey: String] = [:]) throws {
        try Self.check(layout)
        let definitions = Catalogue.definitions(layout: layout, identity: identity)
        var byKey: [VariableKey: VariableDefinition] = [:]
        for definition in definitions {
            guard byKey.updateValue(definition, forKey: definition.key) == nil else {
                throw DeviceModelError.invalidLayout("the catalogue names \(definition.key) twice")
            }
        }
        // Initial values must name a setting or a persistent station value, and fit it.
        var initial: [VariableKey: String] = [:]
        for (key, text) in initialValues {
            guard let definition = byKey[key], let actual = definition.attribute(.actual), actual.source != .firmware,
                  actual.storedInDatabase else {
                throw DeviceModelError.invalidInitialValue(key: key, reason: "not a stored setting of this firmware")
            }
            switch definition.spec.characteristics.validate(text) {
            case .success(let value): initial[key] = value
            case .failure(let rejection): throw DeviceModelError.invalidInitialValue(key: key, reason: rejection.detail)
            }
        }

        let stored = Dictionary(try store.variables().map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var upserting: [StoredVariable] = []
        for definition in definitions {
            let previous = stored[definition.key.stored]
            var values: [AttributeEnumType: String] = [:]
            for attribute in definition.spec.attributes {
                let storedValue = previous?.attributes.first { $0.type == attribute.type.rawValue }?.value
                values[attribute.type] = Self.startValue(of: attribute, in: definition, stored: storedValue,
                                                         initial: attribute.type == .actual ? initial[definition.key] : nil)
            }
            let row = definition.storedRow(values: values)
            if previous != row { upserting.append(row) }
        }
        let known = Set(definitions.map(\.key.stored))
        let removing = stored.keys.filter { !known.contains($0) }
        try store.synchronize(upserting: upserting, removing: removing)
        let ids = try store.variableIds()
        let rowIds = try definitions.map { definition in
            guard let id = ids[definition.key.stored] else {
                throw DeviceModelError.invalidLayout("\(definition.key) was not stored")
            }
            return id
        }

        self.store = store
        let monitors = try store.monitors().compactMap(VariableMonitor.init(stored:))
        var model = ModelState(store: store, definitions: definitions, rowIds: rowIds, monitors: monitors)
        for monitor in monitors {
            model.monitorStates[monitor.id] = MonitorState(reference: model.currentValue(monitor.key, .actual))
        }
        state = Mutex(model)
    }

    /// The value an attribute starts with: stored settings survive if they still fit the
    /// (possibly newer) characteristics; everything else comes from the catalogue.
    private static func startValue(of attribute: AttributeSpec, in definition: VariableDefinition, stored: String?,
                                   initial: String?) -> String? {
        switch attribute.source {
        case .firmware, .station(persistent: false), .keptOutside:
            return attribute.value
        case .setting, .station(persistent: true):
            if let stored {
                if stored == attribute.value { return stored }
                if case .success(let value) = definition.spec.characteristics.validate(stored) { return value }
                // A newer firmware narrowed the range or list: the old value no longer fits.
                return attribute.value
            }
            return initial ?? attribute.value
        }
    }

    private static func check(_ layout: StationLayout) throws {
        var evseIds: Set<Int> = []
        for evse in layout.evses {
            guard evse.evseId > 0 else { throw DeviceModelError.invalidLayout("EVSE id \(evse.evseId) is not positive") }
            guard evseIds.insert(evse.evseId).inserted else {
                throw DeviceModelError.invalidLayout("EVSE id \(evse.evseId) is listed twice")
            }
            guard !evse.connectorIds.isEmpty else { throw DeviceModelError.invalidLayout("EVSE \(evse.evseId) has no connector") }
            guard Set(evse.connectorIds).count == evse.connectorIds.count, evse.connectorIds.allSatisfy({ $0 > 0 }) else {
                throw DeviceModelError.invalidLayout("EVSE \(evse.evseId): connector ids must be positive and distinct")
            }
            guard (1...3).contains(evse.phases) else {
                throw DeviceModelError.invalidLayout("EVSE \(evse.evseId): \(evse.phases) phases (1 to 3 expected)")
            }
            if let power = evse.maxPowerW, !(power.isFinite && power >= 0) {
                throw DeviceModelError.invalidLayout("EVSE \(evse.evseId): maximum power \(power) W")
            }
        }
    }

    // MARK: values the station reads and reports

    /// The Actual value of `key` (also of a write-only variable: this is the station asking), or
    /// `nil` for a variable this firmware does not have.
    public func value(_ key: VariableKey) -> String? {
        state.locked { $0.currentValue(key, .actual) }
    }

    /// Reports a value the station owns (availability, power, the security profile reached, a
    /// heartbeat interval the CSMS gave in BootNotification). The value is checked against the
    /// variable's characteristics and stored if the variable is persistent. A value the firmware
    /// fixes can be changed too, in memory only (the next start restores it). Returns false, and
    /// changes nothing, for an unknown variable, a value that does not fit or a failed write.
    @discardableResult
    public func setActual(_ key: VariableKey, _ value: String) -> Bool {
        state.locked { s in
            guard let variable = s.variable(key), let attribute = variable.definition.attribute(.actual),
                  case .success(let normalized) = variable.definition.spec.characteristics.validate(value) else {
                return false
            }
            if s.isStored(attribute) {
                do {
                    try store.setValues([StoredValueChange(key: key.stored, attributeType: "Actual", value: normalized)])
                } catch {
                    return false
                }
            } else {
                s.holdInMemory(variable, .actual, normalized)
            }
            return true
        }
    }

    /// Calls `handler` after a SetVariables request changed a variable's Actual value (a new
    /// HeartbeatInterval, TxStartPoint, …), with the value as stored. Called on the caller's
    /// thread, after the response was built, without any lock held.
    public func onChange(_ handler: @escaping @Sendable (VariableKey, String) -> Void) {
        state.locked { $0.changeHandlers.append(handler) }
    }

    /// Makes `key`'s Actual value read from `provider` whenever it is asked for (ClockCtrlr.DateTime
    /// from the station's clock). The provider runs with the device model's lock held: it must
    /// not call back into the device model.
    public func provideActual(_ key: VariableKey, _ provider: @escaping @Sendable () -> String) {
        state.locked { $0.providers[key] = provider }
    }

    /// Adds a check of the station's own to SetVariables of `key`, after the characteristics
    /// passed: `check` returns why the value cannot be honoured (answered Rejected with reason
    /// InvalidValue), or nil. For what only the running station knows, such as
    /// NetworkConfigurationPriority naming only slots that hold a network profile. The check runs
    /// with the device model's lock held: it must not call back into the device model.
    public func validateSetting(_ key: VariableKey, _ check: @escaping @Sendable (String) -> String?) {
        state.locked { $0.settingChecks[key] = check }
    }

    /// Where SetVariables puts a secret the station keeps outside the device model
    /// (BasicAuthPassword): `keep` stores the accepted value or throws (answered Rejected,
    /// InternalError). Without a keeper such a variable is Rejected (NotSupported). Runs with
    /// the device model's lock held: it must not call back into the device model.
    public func keepSecret(_ key: VariableKey, _ keep: @escaping @Sendable (String) throws -> Void) {
        state.locked { $0.secretKeepers[key] = keep }
    }

    /// Every variable key, in catalogue order.
    public var keys: [VariableKey] { state.locked { $0.definitions.map(\.key) } }
}

/// What can go wrong opening the device model.
public enum DeviceModelError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidLayout(String)
    case invalidInitialValue(key: VariableKey, reason: String)

    public var description: String {
        switch self {
        case .invalidLayout(let reason): "station layout: \(reason)"
        case .invalidInitialValue(let key, let reason): "initial value of \(key): \(reason)"
        }
    }
}

/// One variable of the catalogue and where it sits in the model (its index in catalogue order).
struct VariableState: Sendable {
    var definition: VariableDefinition
    var position: Int
}

extension VariableDefinition {
    /// The row the device model's table keeps for this variable, with `values` as the stored
    /// attributes' values.
    func storedRow(values: [AttributeEnumType: String]) -> StoredVariable {
        let ch = spec.characteristics
        return StoredVariable(
            key: key.stored,
            characteristics: StoredVariableCharacteristics(dataType: ch.dataType.rawValue, unit: ch.unit,
                                                           minLimit: ch.minLimit, maxLimit: ch.maxLimit,
                                                           valuesList: ch.valuesList,
                                                           supportsMonitoring: ch.supportsMonitoring),
            attributes: spec.attributes.map { attribute in
                StoredVariableAttribute(type: attribute.type.rawValue,
                                        // Values that live in memory only are stored as their start value.
                                        value: attribute.source == .station(persistent: false) || attribute.source == .keptOutside
                                            ? attribute.value
                                            : values[attribute.type],
                                        mutability: attribute.mutability.rawValue,
                                        persistent: attribute.persistent, constant: attribute.constant)
            })
    }
}

/// Everything behind the device model's mutex.
///
/// What it holds: the catalogue (code: names, characteristics, start values), where each variable
/// sits, and the values that live in memory only (station state such as availability and power;
/// a firmware value the station changed for this run). The values of settings and of persistent
/// station state are not held here: SQLite has them, and each read asks it (one indexed row,
/// from a prepared statement), so memory and table can never disagree.
struct ModelState: Sendable {
    let store: DeviceModelStore
    /// Every variable, in catalogue order.
    let definitions: [VariableDefinition]
    /// The positions in `definitions`, sorted by key: a lookup is a binary search (a dictionary
    /// of the keys would hold each key's six fields a second time, and half its slots empty).
    let positionsByKey: [Int16]
    /// The device model table's row id of each variable, by position.
    let rowIds: [Int64]
    /// Values held in memory only, by `memorySlot(position, type)`.
    var memoryValues: [Int: String] = [:]
    var changeHandlers: [@Sendable (VariableKey, String) -> Void] = []
    var providers: [VariableKey: @Sendable () -> String] = [:]
    var settingChecks: [VariableKey: @Sendable (String) -> String?] = [:]
    var secretKeepers: [VariableKey: @Sendable (String) throws -> Void] = [:]
    var monitors: [VariableMonitor]
    var monitorStates: [Int: MonitorState] = [:]
    var nextEventId = 0

    init(store: DeviceModelStore, definitions: [VariableDefinition], rowIds: [Int64], monitors: [VariableMonitor]) {
        self.store = store
        // Copied at its exact size: the catalogue's array grew by doubling.
        var exact: [VariableDefinition] = []
        exact.reserveCapacity(definitions.count)
        exact.append(contentsOf: definitions)
        self.definitions = exact
        self.rowIds = rowIds
        self.monitors = monitors
        positionsByKey = definitions.indices.sorted { definitions[$0].key.sortsBefore(definitions[$1].key) }.map { Int16($0) }
    }

    func variable(_ key: VariableKey) -> VariableState? {
        var low = 0, high = positionsByKey.count
        while low < high {
            let middle = (low + high) / 2
            if definitions[Int(positionsByKey[middle])].key.sortsBefore(key) { low = middle + 1 } else { high = middle }
        }
        guard low < positionsByKey.count else { return nil }
        let position = Int(positionsByKey[low])
        return definitions[position].key == key ? VariableState(definition: definitions[position], position: position) : nil
    }

    /// Some variable of the model belongs to `component` (answers UnknownComponent against
    /// UnknownVariable, after a variable was not found: a scan, on that path only).
    func hasComponent(_ component: ComponentKey) -> Bool {
        definitions.contains { $0.key.componentKey == component }
    }

    /// Every variable, in catalogue order.
    var allVariables: [VariableState] {
        definitions.enumerated().map { VariableState(definition: $1, position: $0) }
    }

    /// The attribute's value lives in the table (a setting, persistent station state), not here.
    func isStored(_ attribute: AttributeSpec) -> Bool {
        attribute.storedInDatabase && attribute.source != .firmware
    }

    /// Keeps a value that lives in memory only; a stored attribute's value is the table's business.
    mutating func holdInMemory(_ variable: VariableState, _ type: AttributeEnumType, _ value: String) {
        guard let attribute = variable.definition.attribute(type), !isStored(attribute) else { return }
        memoryValues[Self.memorySlot(variable.position, type)] = value
    }

    private static func memorySlot(_ position: Int, _ type: AttributeEnumType) -> Int {
        let index = switch type {
        case .actual: 0
        case .target: 1
        case .minSet: 2
        case .maxSet: 3
        }
        return position * 4 + index
    }

    /// The value of an attribute now: a provider's, the table's (stored attributes) or memory's,
    /// else the catalogue's start value. Throws only when the table cannot be read.
    func readValue(_ variable: VariableState, _ type: AttributeEnumType) throws -> String? {
        let key = variable.definition.key
        if type == .actual, let provider = providers[key] { return provider() }
        guard let attribute = variable.definition.attribute(type) else { return nil }
        if isStored(attribute) {
            return try store.value(variableId: rowIds[variable.position], attributeType: type.rawValue)
        }
        return memoryValues[Self.memorySlot(variable.position, type)] ?? attribute.value
    }

    /// `readValue`, with nil for a variable this firmware does not have or a table that cannot be
    /// read (the storage fault is raised by the station, which hears of every failed access).
    func currentValue(_ key: VariableKey, _ type: AttributeEnumType) -> String? {
        guard let variable = variable(key) else { return nil }
        return try? readValue(variable, type)
    }

    /// An integer the firmware or station fixed (message limits), or `fallback`.
    func integer(_ key: VariableKey, fallback: Int) -> Int {
        currentValue(key, .actual).flatMap { Int($0) } ?? fallback
    }

    enum Lookup {
        case unknownComponent
        case unknownVariable
        case unsupportedAttribute
        case found(VariableState, AttributeSpec)
    }

    /// Finds what a CSMS names, telling which part is unknown.
    func lookup(_ component: ComponentType, _ variable: VariableType, _ type: AttributeEnumType) -> Lookup {
        let key = VariableKey(component: component, variable: variable)
        guard let state = self.variable(key) else {
            return hasComponent(key.componentKey) ? .unknownVariable : .unknownComponent
        }
        guard let attribute = state.definition.attribute(type) else { return .unsupportedAttribute }
        return .found(state, attribute)
    }
}

extension VariableKey {
    var stored: StoredVariableKey {
        StoredVariableKey(component: component, componentInstance: componentInstance, evseId: evseId,
                          connectorId: connectorId, variable: variable, variableInstance: variableInstance)
    }

    init(stored: StoredVariableKey) {
        self.init(component: stored.component, evseId: stored.evseId, connectorId: stored.connectorId,
                  componentInstance: stored.componentInstance, variable: stored.variable,
                  variableInstance: stored.variableInstance)
    }
}
