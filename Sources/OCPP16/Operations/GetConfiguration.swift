import OCPP16Messages

/// GetConfiguration (CSMS → charge point): every supported key when none is named; names the
/// charge point does not know come back in unknownKey.
extension OCPP16ChargePoint {
    func getConfiguration(_ request: GetConfigurationRequest) -> GetConfigurationResponse {
        let securityKeys = security.readableKeys
        guard let names = request.key else {
            // Every key, in the order they are declared: no lookup by name needed.
            let known = configuration.keys.filter { $0.name != "AuthorizationKey" }
                .map { GetConfigurationResponse.KeyValue(key: $0.name, readonly: $0.readOnly, value: configuration.value($0.name)) }
                + securityKeys.map { .init(key: $0.name, readonly: $0.readOnly, value: $0.value) }
            return GetConfigurationResponse(configurationKey: known.isEmpty ? nil : known, unknownKey: nil)
        }
        var known: [GetConfigurationResponse.KeyValue] = []
        var unknown: [String] = []
        for name in names {
            if name == "AuthorizationKey" { continue }  // write-only
            if let entry = securityKeys.first(where: { $0.name == name }) {
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
