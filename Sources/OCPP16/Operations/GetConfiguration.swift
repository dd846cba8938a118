import OCPP16Messages

/// GetConfiguration (CSMS → charge point): every supported key when none is named; names the
/// charge point does not know come back in unknownKey.
extension OCPP16ChargePoint {
    func getConfiguration(_ request: GetConfigurationRequest) -> GetConfigurationResponse {
        let names = request.key ?? configuration.keys.map(\.name)
        var known: [GetConfigurationResponse.KeyValue] = []
        var unknown: [String] = []
        for name in names {
            if let key = configuration.key(name) {
                known.append(.init(key: key.name, readonly: key.readOnly, value: configuration.value(key.name)))
            } else {
                unknown.append(name)
            }
        }
        return GetConfigurationResponse(configurationKey: known.isEmpty ? nil : known,
                                        unknownKey: unknown.isEmpty ? nil : unknown)
    }
}
