@testable import OCPP201DeviceModel
import OCPP201Messages
import Testing

/// Guards the hand-written catalogue against its own typos: a default that its characteristics
/// refuse would be reported to the CSMS and could never be written back.
@Suite struct CatalogueConsistencyTests {
    /// Values that start empty on purpose: no password until the CSMS or the station file sets
    /// one; the clock is read from the station (provideActual), not stored.
    static let startEmpty: Set<VariableKey> = [.basicAuthPassword, .dateTime]

    @Test func everyCatalogueValueFitsItsCharacteristics() {
        for definition in Catalogue.definitions(layout: twoEVSELayout, identity: testIdentity)
        where !Self.startEmpty.contains(definition.key) {
            for attribute in definition.spec.attributes {
                let value = attribute.value ?? ""
                let verdict = definition.spec.characteristics.validate(value)
                #expect(verdict == .success(value), "\(definition.key) \(attribute.type.rawValue) = '\(value)': \(verdict)")
            }
        }
    }

    @Test func readOnlyValuesComeFromTheStationOrTheFirmwareAndSettingsAreWritable() {
        for definition in Catalogue.definitions(layout: twoEVSELayout, identity: testIdentity) {
            for attribute in definition.spec.attributes {
                switch attribute.source {
                case .setting: #expect(attribute.mutability != .readOnly, "\(definition.key)")
                case .firmware, .station: #expect(attribute.mutability == .readOnly, "\(definition.key)")
                case .keptOutside: #expect(attribute.mutability == .writeOnly, "\(definition.key): a secret kept outside is never read back")
                }
            }
            if definition.spec.characteristics.valuesList != nil {
                #expect([.optionList, .memberList, .sequenceList].contains(definition.spec.characteristics.dataType),
                        "\(definition.key) has a values list but is \(definition.spec.characteristics.dataType)")
            }
        }
    }

    @Test func ocpp16SettingsCarryOverWhereTheyFit() {
        let carried = DeviceModel.initialValues(fromOCPP16: [
            "HeartbeatInterval": "120",
            "MeterValuesSampledData": "Energy.Active.Import.Register, SoC,Power.Active.Import",
            "ConnectionTimeOut": "90",
            "StopTransactionOnInvalidId": "false",
            "WebSocketPingInterval": "not a number",
            "SecurityProfile": "2",
            "GetConfigurationMaxKeys": "50",
        ], layout: twoEVSELayout)
        #expect(carried == [
            .heartbeatInterval: "120",
            VariableKey(component: "SampledDataCtrlr", variable: "TxUpdatedMeasurands"):
                "Energy.Active.Import.Register,Power.Active.Import",
            VariableKey(component: "TxCtrlr", variable: "EVConnectionTimeOut"): "90",
            VariableKey(component: "TxCtrlr", variable: "StopTxOnInvalidId"): "false",
            .securityProfile: "2",
        ])
    }
}
