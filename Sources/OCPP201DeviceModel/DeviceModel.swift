import OCPP201Messages
import Storage
import Locking
import Synchronization

/// The OCPP 2.0.1 device model of this charging station: every component and variable the
/// firmware offers (the catalogue in `Catalogue/`), their current values, persisted in SQLite.
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
        var variables: [VariableKey: VariableState] = [:]
        var upserting: [StoredVariable] = []
        for definition in definitions {
            let previous = stored[definition.key.stored]
            var values: [AttributeEnumType: String] = [:]
            for attribute in definition.spec.attributes {
                let storedValue = previous?.attributes.first { $0.type == attribute.type.rawValue }?.value
                values[attribute.type] = Self.startValue(of: attribute, in: definition, stored: storedValue,
                                                         initial: attribute.type == .actual ? initial[definition.key] : nil)
            }
            let variable = VariableState(definition: definition, values: values)
            variables[definition.key] = variable
            let row = variable.storedRow
            if previous != row { upserting.append(row) }
        }
        let known = Set(definitions.map(\.key.stored))
        let removing = stored.keys.filter { !known.contains($0) }
        try store.synchronize(upserting: upserting, removing: removing)

        self.store = store
        let monitors = try store.monitors().compactMap(VariableMonitor.init(stored:))
        var model = ModelState(variables: variables, order: definitions.map(\.key),
                               components: Set(definitions.map(\.key.componentKey)), monitors: monitors)
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
            guard let variable = s.variables[key], let attribute = variable.definition.attribute(.actual),
                  case .success(let normalized) = variable.definition.spec.characteristics.validate(value) else {
                return false
            }
            if attribute.storedInDatabase, attribute.source != .firmware {
                do {
                    try store.setValues([StoredValueChange(key: key.stored, attributeType: "Actual", value: normalized)])
                } catch {
                    return false
                }
            }
            s.variables[key]?.values[.actual] = normalized
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
    public var keys: [VariableKey] { state.locked { $0.order } }
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

/// One variable with its current attribute values.
struct VariableState: Sendable {
    var definition: VariableDefinition
    var values: [AttributeEnumType: String]

    var storedRow: StoredVariable {
        let ch = definition.spec.characteristics
        return StoredVariable(
            key: definition.key.stored,
            characteristics: StoredVariableCharacteristics(dataType: ch.dataType.rawValue, unit: ch.unit,
                                                           minLimit: ch.minLimit, maxLimit: ch.maxLimit,
                                                           valuesList: ch.valuesList,
                                                           supportsMonitoring: ch.supportsMonitoring),
            attributes: definition.spec.attributes.map { attribute in
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
struct ModelState: Sendable {
    var variables: [VariableKey: VariableState]
    var order: [VariableKey]
    var components: Set<ComponentKey>
    var changeHandlers: [@Sendable (VariableKey, String) -> Void] = []
    var providers: [VariableKey: @Sendable () -> String] = [:]
    var settingChecks: [VariableKey: @Sendable (String) -> String?] = [:]
    var secretKeepers: [VariableKey: @Sendable (String) throws -> Void] = [:]
    var monitors: [VariableMonitor]
    var monitorStates: [Int: MonitorState] = [:]
    var nextEventId = 0

    func currentValue(_ key: VariableKey, _ type: AttributeEnumType) -> String? {
        if type == .actual, let provider = providers[key], variables[key] != nil { return provider() }
        return variables[key]?.values[type]
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
        guard components.contains(key.componentKey) else { return .unknownComponent }
        guard let state = variables[key] else { return .unknownVariable }
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
