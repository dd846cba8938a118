/// Settings a station that ran OCPP 1.6 keeps when it switches to 2.0.1 on the same data
/// directory: the 1.6 configuration keys that have a 2.0.1 variable of the same meaning.
extension DeviceModel {
    /// 1.6 configuration key → the 2.0.1 variable it becomes.
    static let ocpp16Equivalents: [String: VariableKey] = [
        "HeartbeatInterval": .heartbeatInterval,
        "ResetRetries": VariableKey(component: "OCPPCommCtrlr", variable: "ResetRetries"),
        "TransactionMessageAttempts": VariableKey(component: "OCPPCommCtrlr", variable: "MessageAttempts",
                                                  variableInstance: "TransactionEvent"),
        "TransactionMessageRetryInterval": VariableKey(component: "OCPPCommCtrlr", variable: "MessageAttemptInterval",
                                                       variableInstance: "TransactionEvent"),
        "UnlockConnectorOnEVSideDisconnect": VariableKey(component: "OCPPCommCtrlr", variable: "UnlockOnEVSideDisconnect"),
        "WebSocketPingInterval": VariableKey(component: "OCPPCommCtrlr", variable: "WebSocketPingInterval"),
        "ConnectionTimeOut": VariableKey(component: "TxCtrlr", variable: "EVConnectionTimeOut"),
        "StopTransactionOnEVSideDisconnect": VariableKey(component: "TxCtrlr", variable: "StopTxOnEVSideDisconnect"),
        "StopTransactionOnInvalidId": VariableKey(component: "TxCtrlr", variable: "StopTxOnInvalidId"),
        "AuthorizeRemoteTxRequests": VariableKey(component: "AuthCtrlr", variable: "AuthorizeRemoteStart"),
        "LocalAuthorizeOffline": VariableKey(component: "AuthCtrlr", variable: "LocalAuthorizeOffline"),
        "LocalPreAuthorize": VariableKey(component: "AuthCtrlr", variable: "LocalPreAuthorize"),
        "AllowOfflineTxForUnknownId": VariableKey(component: "AuthCtrlr", variable: "OfflineTxForUnknownIdEnabled"),
        "AuthorizationCacheEnabled": VariableKey(component: "AuthCacheCtrlr", variable: "Enabled"),
        "LocalAuthListEnabled": VariableKey(component: "LocalAuthListCtrlr", variable: "Enabled"),
        "MeterValueSampleInterval": VariableKey(component: "SampledDataCtrlr", variable: "TxUpdatedInterval"),
        "MeterValuesSampledData": VariableKey(component: "SampledDataCtrlr", variable: "TxUpdatedMeasurands"),
        "StopTxnSampledData": VariableKey(component: "SampledDataCtrlr", variable: "TxEndedMeasurands"),
        "ClockAlignedDataInterval": VariableKey(component: "AlignedDataCtrlr", variable: "Interval"),
        "MeterValuesAlignedData": VariableKey(component: "AlignedDataCtrlr", variable: "Measurands"),
        "StopTxnAlignedData": VariableKey(component: "AlignedDataCtrlr", variable: "TxEndedMeasurands"),
        "SecurityProfile": .securityProfile,
    ]

    /// The `initialValues` for a first 2.0.1 start after 1.6: `configuration` holds the 1.6 keys
    /// as the 1.6 adapter stored them (names without its store prefix). A value 2.0.1 does not
    /// allow is left out (the variable keeps its default); measurand lists keep the measurands
    /// this station offers.
    public static func initialValues(fromOCPP16 configuration: [String: String],
                                     layout: StationLayout) -> [VariableKey: String] {
        let identity = StationIdentity(vendorName: "", model: "", firmwareVersion: "")
        let definitions = Dictionary(Catalogue.definitions(layout: layout, identity: identity).map { ($0.key, $0) },
                                     uniquingKeysWith: { first, _ in first })
        var values: [VariableKey: String] = [:]
        for (name, text) in configuration {
            guard let key = ocpp16Equivalents[name], let definition = definitions[key] else { continue }
            let characteristics = definition.spec.characteristics
            var candidate = text.trimmingSpaces()
            if characteristics.dataType == .memberList, let allowed = characteristics.allowedValues {
                candidate = candidate.split(separator: ",").map { String($0).trimmingSpaces() }
                    .filter { allowed.contains($0) }.joined(separator: ",")
            }
            if case .success(let value) = characteristics.validate(candidate) { values[key] = value }
        }
        return values
    }
}

private extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
