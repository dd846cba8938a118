import BoardDescription
import OCPP16
import OCPP201DeviceModel
import Storage

/// The OCPP 2.0.1 device model of this charger, from its board file: one EVSE per connector
/// (connector 1 on it), `EVSE.Power`'s maximum from the connector's current rating × phases ×
/// the nominal 230 V, a socket reported as sType2 and a tethered cable as cType2.
enum DeviceModelWiring {
    /// Nominal phase voltage of the supply (EN 50160), for the power an EVSE can deliver.
    static let nominalVoltage = 230.0

    static func layout(_ connectors: [ConnectorDescription], displayCanShowQRCode: Bool = false,
                       language: String = "en") -> StationLayout {
        StationLayout(evses: connectors.map { connector in
            let type = switch connector.kind {
            case .socket: "sType2"
            case .fixedCable: "cType2"
            }
            return EVSELayout(evseId: connector.id, connectorIds: [1],
                              maxPowerW: connector.maxCurrentAmps * Double(connector.phases) * nominalVoltage,
                              connectorType: type, phases: connector.phases,
                              canSwitchPhases: connector.contactor.phaseSwitch != nil)
        }, displayCanShowQRCode: displayCanShowQRCode, displayLanguage: language)
    }

    /// Opens the device model on the station's database. On the very first 2.0.1 start (nothing
    /// stored yet) the settings the operator gave under 1.6 on this data directory carry over
    /// (HeartbeatInterval, meter value intervals, offline rules, …).
    static func open(storage: StationStorage, layout: StationLayout, identity: StationIdentity) throws -> DeviceModel {
        var initial: [VariableKey: String] = [:]
        if try storage.deviceModel.variables().isEmpty {
            let prefix = ConfigurationService.storePrefix
            var ocpp16: [String: String] = [:]
            for (key, value) in try storage.config.all() where key.hasPrefix(prefix) {
                ocpp16[String(key.dropFirst(prefix.count))] = value
            }
            initial = DeviceModel.initialValues(fromOCPP16: ocpp16, layout: layout)
        }
        return try DeviceModel(store: storage.deviceModel, layout: layout, identity: identity, initialValues: initial)
    }
}
