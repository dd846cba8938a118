/// The OCPP 2.0.1 device model on disk: every component variable with its characteristics, its
/// attributes (Actual, Target, MinSet, MaxSet: value and mutability) and the monitors set on it.
///
/// The store knows nothing of OCPP's rules; it keeps strings and numbers. The `OCPP201DeviceModel`
/// library decides what a variable is, validates values and calls this store to make them last.
/// Every write is one SQLite transaction: a failed call leaves nothing half-written.
public final class DeviceModelStore: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: variables

    /// Every stored variable, in insertion order (the order the firmware's catalogue seeded them).
    public func variables() throws -> [StoredVariable] {
        try database.withConnection { c in
            var attributesById: [Int64: [StoredVariableAttribute]] = [:]
            try c.withStatement("""
                SELECT variable_id, type, value, mutability, persistent, constant
                FROM device_variable_attributes ORDER BY variable_id
                """) { statement in
                try statement.forEachRow { row in
                    attributesById[try row.int64(0), default: []].append(StoredVariableAttribute(
                        type: try row.string(1), value: try row.stringOrNil(2), mutability: try row.string(3),
                        persistent: try row.int(4) != 0, constant: try row.int(5) != 0))
                }
            }
            return try c.query("""
                SELECT id, component, component_instance, evse_id, connector_id, variable, variable_instance,
                       data_type, unit, min_limit, max_limit, values_list, supports_monitoring
                FROM device_variables ORDER BY id
                """) { row in
                let order = ["Actual", "Target", "MinSet", "MaxSet"]
                let attributes = (attributesById[try row.int64(0)] ?? [])
                    .sorted { (order.firstIndex(of: $0.type) ?? 4) < (order.firstIndex(of: $1.type) ?? 4) }
                return StoredVariable(
                    key: try Self.key(row, from: 1),
                    characteristics: StoredVariableCharacteristics(
                        dataType: try row.string(7), unit: try row.stringOrNil(8), minLimit: try row.doubleOrNil(9),
                        maxLimit: try row.doubleOrNil(10), valuesList: try row.stringOrNil(11),
                        supportsMonitoring: try row.int(12) != 0),
                    attributes: attributes)
            }
        }
    }

    /// The row id of every stored variable: what `value(variableId:attributeType:)` takes.
    public func variableIds() throws -> [StoredVariableKey: Int64] {
        try database.withConnection { c in
            var ids: [StoredVariableKey: Int64] = [:]
            try c.withStatement("""
                SELECT id, component, component_instance, evse_id, connector_id, variable, variable_instance
                FROM device_variables
                """) { statement in
                try statement.forEachRow { row in ids[try Self.key(row, from: 1)] = try row.int64(0) }
            }
            return ids
        }
    }

    /// The stored value of one attribute (nil: the attribute has no value or is not stored).
    public func value(variableId: Int64, attributeType: String) throws -> String? {
        try database.withConnection { c in
            try c.queryFirst("SELECT value FROM device_variable_attributes WHERE variable_id = ? AND type = ?",
                             [.integer(variableId), .text(attributeType)]) { try $0.stringOrNil(0) } ?? nil
        }
    }

    /// Writes the catalogue the firmware starts with: inserts or updates `upserting` (their
    /// characteristics and attributes replace the stored ones; a variable's monitors survive an
    /// update) and deletes `removing` with their monitors. All or nothing.
    public func synchronize(upserting: [StoredVariable], removing: [StoredVariableKey] = []) throws {
        for variable in upserting { try Self.check(variable) }
        try database.transaction { c in
            for key in removing {
                try c.execute("""
                    DELETE FROM device_variables WHERE component = ? AND component_instance = ? AND evse_id = ?
                      AND connector_id = ? AND variable = ? AND variable_instance = ?
                    """, Self.bindings(key))
            }
            for variable in upserting {
                let ch = variable.characteristics
                try c.execute("""
                    INSERT INTO device_variables (component, component_instance, evse_id, connector_id, variable,
                        variable_instance, data_type, unit, min_limit, max_limit, values_list, supports_monitoring)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (component, component_instance, evse_id, connector_id, variable, variable_instance)
                    DO UPDATE SET data_type = excluded.data_type, unit = excluded.unit, min_limit = excluded.min_limit,
                        max_limit = excluded.max_limit, values_list = excluded.values_list,
                        supports_monitoring = excluded.supports_monitoring
                    """, Self.bindings(variable.key) + [
                        .text(ch.dataType), .text(orNull: ch.unit), .real(orNull: ch.minLimit), .real(orNull: ch.maxLimit),
                        .text(orNull: ch.valuesList), .int(ch.supportsMonitoring ? 1 : 0),
                    ])
                let id = try Self.id(of: variable.key, c)
                try c.execute("DELETE FROM device_variable_attributes WHERE variable_id = ?", [.integer(id)])
                for attribute in variable.attributes {
                    try c.execute("""
                        INSERT INTO device_variable_attributes (variable_id, type, value, mutability, persistent, constant)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, [.integer(id), .text(attribute.type), .text(orNull: attribute.value), .text(attribute.mutability),
                              .int(attribute.persistent ? 1 : 0), .int(attribute.constant ? 1 : 0)])
                }
            }
        }
    }

    /// Stores new values of existing attributes, all in one transaction. A change naming a
    /// variable or attribute that is not stored fails the whole call and changes nothing.
    public func setValues(_ changes: [StoredValueChange]) throws {
        guard !changes.isEmpty else { return }
        try database.transaction { c in
            for change in changes {
                let id = try Self.id(of: change.key, c)
                try c.execute("UPDATE device_variable_attributes SET value = ? WHERE variable_id = ? AND type = ?",
                              [.text(orNull: change.value), .integer(id), .text(change.attributeType)])
                guard c.changes == 1 else {
                    throw StorageError.invalidArgument("\(change.key) has no \(change.attributeType) attribute")
                }
            }
        }
    }

    // MARK: monitors

    /// Every stored monitor, by id.
    public func monitors() throws -> [StoredVariableMonitor] {
        try database.query("""
            SELECT m.id, v.component, v.component_instance, v.evse_id, v.connector_id, v.variable, v.variable_instance,
                   m.type, m.value, m.severity, m.transaction_only, m.origin
            FROM variable_monitors m JOIN device_variables v ON v.id = m.variable_id ORDER BY m.id
            """) { row in
            StoredVariableMonitor(id: try row.int(0), key: try Self.key(row, from: 1), type: try row.string(7),
                                  value: try row.double(8), severity: try row.int(9),
                                  transactionOnly: try row.int(10) != 0, origin: try row.string(11))
        }
    }

    /// Inserts the monitors, or replaces those whose id is already stored; all or nothing.
    public func putMonitors(_ monitors: [StoredVariableMonitor]) throws {
        guard !monitors.isEmpty else { return }
        for monitor in monitors where monitor.id <= 0 {
            throw StorageError.invalidArgument("monitor id \(monitor.id) is not positive")
        }
        try database.transaction { c in
            for monitor in monitors {
                let variableId = try Self.id(of: monitor.key, c)
                try c.execute("""
                    INSERT INTO variable_monitors (id, variable_id, type, value, severity, transaction_only, origin)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET variable_id = excluded.variable_id, type = excluded.type,
                        value = excluded.value, severity = excluded.severity,
                        transaction_only = excluded.transaction_only, origin = excluded.origin
                    """, [.int(monitor.id), .integer(variableId), .text(monitor.type), .real(monitor.value),
                          .int(monitor.severity), .int(monitor.transactionOnly ? 1 : 0), .text(monitor.origin)])
            }
        }
    }

    /// Deletes the monitors with these ids; returns the ids that were there.
    @discardableResult
    public func removeMonitors(ids: [Int]) throws -> [Int] {
        try database.transaction { c in
            var removed: [Int] = []
            for id in ids {
                try c.execute("DELETE FROM variable_monitors WHERE id = ?", [.int(id)])
                if c.changes > 0 { removed.append(id) }
            }
            return removed
        }
    }

    // MARK: helpers

    private static func check(_ variable: StoredVariable) throws {
        let key = variable.key
        guard !key.component.isEmpty, !key.variable.isEmpty else {
            throw StorageError.invalidArgument("device model variable with an empty component or variable name: \(key)")
        }
        if let evse = key.evseId, evse <= 0 { throw StorageError.invalidArgument("\(key): EVSE id must be positive") }
        if let connector = key.connectorId, connector <= 0 {
            throw StorageError.invalidArgument("\(key): connector id must be positive")
        }
        if key.connectorId != nil, key.evseId == nil {
            throw StorageError.invalidArgument("\(key): a connector id needs an EVSE id")
        }
    }

    private static func bindings(_ key: StoredVariableKey) -> [SQLValue] {
        [.text(key.component), .text(key.componentInstance ?? ""), .int(key.evseId ?? 0), .int(key.connectorId ?? 0),
         .text(key.variable), .text(key.variableInstance ?? "")]
    }

    private static func key(_ row: Statement, from first: Int) throws -> StoredVariableKey {
        let componentInstance = try row.string(first + 1)
        let evse = try row.int(first + 2)
        let connector = try row.int(first + 3)
        let variableInstance = try row.string(first + 5)
        return StoredVariableKey(component: try row.string(first),
                                 componentInstance: componentInstance.isEmpty ? nil : componentInstance,
                                 evseId: evse == 0 ? nil : evse, connectorId: connector == 0 ? nil : connector,
                                 variable: try row.string(first + 4),
                                 variableInstance: variableInstance.isEmpty ? nil : variableInstance)
    }

    private static func id(of key: StoredVariableKey, _ c: Connection) throws -> Int64 {
        guard let id = try c.queryFirst("""
            SELECT id FROM device_variables WHERE component = ? AND component_instance = ? AND evse_id = ?
              AND connector_id = ? AND variable = ? AND variable_instance = ?
            """, bindings(key), row: { try $0.int64(0) }) else {
            throw StorageError.invalidArgument("no stored device model variable \(key)")
        }
        return id
    }
}

/// Which variable: component (name, instance, EVSE, connector) and variable (name, instance).
public struct StoredVariableKey: Hashable, Sendable, CustomStringConvertible {
    public var component: String
    public var componentInstance: String?
    public var evseId: Int?
    public var connectorId: Int?
    public var variable: String
    public var variableInstance: String?

    public init(component: String, componentInstance: String? = nil, evseId: Int? = nil, connectorId: Int? = nil,
                variable: String, variableInstance: String? = nil) {
        self.component = component
        self.componentInstance = componentInstance
        self.evseId = evseId
        self.connectorId = connectorId
        self.variable = variable
        self.variableInstance = variableInstance
    }

    /// `Connector[evse 1, connector 1].AvailabilityState`, `DeviceDataCtrlr.ItemsPerMessage[GetReport]`.
    public var description: String {
        var text = component
        if let componentInstance { text += "(\(componentInstance))" }
        if let evseId { text += connectorId.map { "[evse \(evseId), connector \($0)]" } ?? "[evse \(evseId)]" }
        text += "." + variable
        if let variableInstance { text += "[\(variableInstance)]" }
        return text
    }
}

public struct StoredVariableCharacteristics: Equatable, Sendable {
    public var dataType: String
    public var unit: String?
    public var minLimit: Double?
    public var maxLimit: Double?
    public var valuesList: String?
    public var supportsMonitoring: Bool

    public init(dataType: String, unit: String? = nil, minLimit: Double? = nil, maxLimit: Double? = nil,
                valuesList: String? = nil, supportsMonitoring: Bool) {
        self.dataType = dataType
        self.unit = unit
        self.minLimit = minLimit
        self.maxLimit = maxLimit
        self.valuesList = valuesList
        self.supportsMonitoring = supportsMonitoring
    }
}

/// One attribute (`Actual`, `Target`, `MinSet`, `MaxSet`) of a variable.
public struct StoredVariableAttribute: Equatable, Sendable {
    public var type: String
    public var value: String?
    public var mutability: String
    public var persistent: Bool
    public var constant: Bool

    public init(type: String, value: String?, mutability: String, persistent: Bool, constant: Bool) {
        self.type = type
        self.value = value
        self.mutability = mutability
        self.persistent = persistent
        self.constant = constant
    }
}

public struct StoredVariable: Equatable, Sendable {
    public var key: StoredVariableKey
    public var characteristics: StoredVariableCharacteristics
    public var attributes: [StoredVariableAttribute]

    public init(key: StoredVariableKey, characteristics: StoredVariableCharacteristics, attributes: [StoredVariableAttribute]) {
        self.key = key
        self.characteristics = characteristics
        self.attributes = attributes
    }
}

/// A new value for one attribute of a stored variable.
public struct StoredValueChange: Equatable, Sendable {
    public var key: StoredVariableKey
    public var attributeType: String
    public var value: String?

    public init(key: StoredVariableKey, attributeType: String, value: String?) {
        self.key = key
        self.attributeType = attributeType
        self.value = value
    }
}

/// A monitor on a variable: `type` is OCPP's MonitorEnumType (UpperThreshold, Delta, …), `origin`
/// its EventNotificationEnumType (CustomMonitor, PreconfiguredMonitor, HardWiredMonitor).
public struct StoredVariableMonitor: Equatable, Sendable {
    public var id: Int
    public var key: StoredVariableKey
    public var type: String
    public var value: Double
    public var severity: Int
    public var transactionOnly: Bool
    public var origin: String

    public init(id: Int, key: StoredVariableKey, type: String, value: Double, severity: Int, transactionOnly: Bool,
                origin: String) {
        self.id = id
        self.key = key
        self.type = type
        self.value = value
        self.severity = severity
        self.transactionOnly = transactionOnly
        self.origin = origin
    }
}
