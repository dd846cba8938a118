import Storage
import Testing

@Suite struct DeviceModelStoreTests {
    static let heartbeat = StoredVariableKey(component: "OCPPCommCtrlr", variable: "HeartbeatInterval")
    static let power = StoredVariableKey(component: "EVSE", evseId: 1, variable: "Power")

    static func variable(_ key: StoredVariableKey, _ value: String, maxLimit: Double? = nil) -> StoredVariable {
        StoredVariable(key: key,
                       characteristics: StoredVariableCharacteristics(dataType: "integer", maxLimit: maxLimit, supportsMonitoring: true),
                       attributes: [StoredVariableAttribute(type: "Actual", value: value, mutability: "ReadWrite",
                                                            persistent: true, constant: false)])
    }

    @Test func variablesMonitorsAndValuesSurviveAReopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try StationStorage(dataDirectory: dir.path).deviceModel
            try store.synchronize(upserting: [Self.variable(Self.heartbeat, "300"), Self.variable(Self.power, "0", maxLimit: 22_000)])
            try store.setValues([StoredValueChange(key: Self.heartbeat, attributeType: "Actual", value: "60")])
            try store.putMonitors([StoredVariableMonitor(id: 3, key: Self.power, type: "UpperThreshold", value: 11_000,
                                                         severity: 4, transactionOnly: false, origin: "CustomMonitor")])
        }
        let store = try StationStorage(dataDirectory: dir.path).deviceModel
        let variables = try store.variables()
        #expect(variables.map(\.key) == [Self.heartbeat, Self.power])
        #expect(variables.first?.attributes.first?.value == "60")
        #expect(variables.last?.characteristics.maxLimit == 22_000)
        #expect(try store.monitors().map(\.id) == [3])
    }

    @Test func aFailingWriteChangesNothing() throws {
        let store = try migratedInMemory().deviceModel
        try store.synchronize(upserting: [Self.variable(Self.heartbeat, "300")])
        // The second change names an attribute that does not exist: the first is rolled back.
        #expect(throws: StorageError.self) {
            try store.setValues([StoredValueChange(key: Self.heartbeat, attributeType: "Actual", value: "10"),
                                 StoredValueChange(key: Self.heartbeat, attributeType: "MaxSet", value: "10")])
        }
        #expect(try store.variables().first?.attributes.first?.value == "300")
        #expect(throws: StorageError.self) {
            try store.synchronize(upserting: [Self.variable(Self.power, "0"),
                                              Self.variable(StoredVariableKey(component: "", variable: "X"), "1")])
        }
        #expect(try store.variables().count == 1)
        #expect(throws: StorageError.self) {
            try store.putMonitors([StoredVariableMonitor(id: 1, key: Self.power, type: "Delta", value: 1, severity: 1,
                                                         transactionOnly: false, origin: "CustomMonitor")])
        }
        #expect(try store.monitors().isEmpty)
    }

    @Test func removingAVariableRemovesItsMonitors() throws {
        let store = try migratedInMemory().deviceModel
        try store.synchronize(upserting: [Self.variable(Self.heartbeat, "300"), Self.variable(Self.power, "0")])
        try store.putMonitors([StoredVariableMonitor(id: 1, key: Self.power, type: "Delta", value: 100, severity: 5,
                                                     transactionOnly: true, origin: "CustomMonitor"),
                               StoredVariableMonitor(id: 2, key: Self.heartbeat, type: "Delta", value: 1, severity: 5,
                                                     transactionOnly: false, origin: "CustomMonitor")])
        // An update of the variable keeps its monitors; a removal takes them along.
        try store.synchronize(upserting: [Self.variable(Self.power, "0", maxLimit: 7_400)])
        #expect(try store.monitors().map(\.id) == [1, 2])
        try store.synchronize(upserting: [], removing: [Self.power])
        #expect(try store.monitors().map(\.id) == [2])
        #expect(try store.removeMonitors(ids: [2, 9]) == [2])
        #expect(try store.variables().map(\.key) == [Self.heartbeat])
    }
}
