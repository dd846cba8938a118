import OCPP201DeviceModel
import OCPP201Messages
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// Two AC EVSEs with one connector each, as on our dual-socket boards.
let twoEVSELayout = StationLayout(evses: [
    EVSELayout(evseId: 1, connectorIds: [1], maxPowerW: 22_000, connectorType: "cType2", phases: 3),
    EVSELayout(evseId: 2, connectorIds: [1], maxPowerW: 7_400, connectorType: "sType2", phases: 1),
])

let testIdentity = StationIdentity(vendorName: "SwiftEVSE", model: "Dual-22", serialNumber: "SN-0001",
                                   firmwareVersion: "1.0.0", stationId: "CP001")

let reportTime = "2026-12-05T08:00:00Z"

/// A migrated in-memory station database; keep it to "restart" the device model on it.
func freshStore() throws -> DeviceModelStore {
    try StationStorage(database: Database.inMemory()).deviceModel
}

func openModel(_ store: DeviceModelStore, layout: StationLayout = twoEVSELayout, identity: StationIdentity = testIdentity,
               initialValues: [VariableKey: String] = [:]) throws -> DeviceModel {
    try DeviceModel(store: store, layout: layout, identity: identity, initialValues: initialValues)
}

func component(_ name: String, evse: Int? = nil, connector: Int? = nil, instance: String? = nil) -> ComponentType {
    ComponentType(evse: evse.map { EVSEType(id: $0, connectorId: connector) }, name: name, instance: instance)
}

func get(_ model: DeviceModel, _ component: ComponentType, _ variable: String, instance: String? = nil,
         _ type: AttributeEnumType? = nil) -> GetVariablesResponse.GetVariableResultType? {
    model.getVariables(GetVariablesRequest(getVariableData: [
        .init(attributeType: type, component: component, variable: VariableType(name: variable, instance: instance)),
    ])).getVariableResult.first
}

func set(_ model: DeviceModel, _ component: ComponentType, _ variable: String, instance: String? = nil,
         _ value: String, _ type: AttributeEnumType? = nil) -> SetVariablesResponse.SetVariableResultType? {
    model.setVariables(SetVariablesRequest(setVariableData: [
        .init(attributeType: type, attributeValue: value, component: component,
              variable: VariableType(name: variable, instance: instance)),
    ])).setVariableResult.first
}

/// A database file in a new directory of its own under /tmp (for tests that reopen it).
func scratchDatabasePath() throws -> String {
    var template = Array("/tmp/devicemodel-test-XXXXXX".utf8CString)
    guard let directory = mkdtemp(&template) else { throw StorageError.invalidArgument("mkdtemp failed") }
    return String(cString: directory) + "/station.sqlite"
}
