import OCPP16Messages

/// GetConfiguration (CSMS → charge point): every supported key when none is named; names the
/// charge point does not know come back in unknownKey.
extension OCPP16ChargePoint {
    func getConfiguration(_ request: GetConfigurationRequest) -> GetConfigurationResponse {
        let names = request.key ?? configuration.keys.map(\.name) + security.readableKeys.map { $0.name }
        var known: [GetConfigurationResponse.KeyValue] = []
        var unknown: [String] = []
        for name in names {
            if name == "AuthorizationKey" { continue }  // write-only
            if let entry = security.readableKeys.first(where: { $0.name == name }) {
                known.append(.init(key: entry.name, readonly: entry.readOnly, value: entry.value))
            } else if let key = configuration.key(name) {
                known.append(.init(key: key.name, readonly: key.readOnly, value: configuration.value(key.name)))
            } else {
                unknown.append(name)
            }
        }
        return GetConfigurationResponse(configurationKey: known.isEmpty ? nil : known,
                                        unknownKey: unknown.isEmpty ? nil : unknown)
    }
}
