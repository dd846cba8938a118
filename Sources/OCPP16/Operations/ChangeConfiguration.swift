import OCPP16Messages

/// ChangeConfiguration (CSMS → charge point): validated and persisted by the
/// ConfigurationService; keys that only apply at start answer RebootRequired.
extension OCPP16ChargePoint {
    func changeConfiguration(_ request: ChangeConfigurationRequest) -> ChangeConfigurationResponse {
        if SecurityService.securityKeys.contains(request.key) { return changeSecurityKey(request) }
        let result = configuration.change(request.key, to: request.value)
        if request.key == "StopTxnSampledData" || request.key == "StopTxnAlignedData" {
            transactions.setStopTransactionMeasurands(sampled: configuration.measurands("StopTxnSampledData"),
                                                      aligned: configuration.measurands("StopTxnAlignedData"))
        }
        switch result {
        case .accepted:
            logger.notice("configuration: \(request.key) = \(request.value)")
            return ChangeConfigurationResponse(status: .accepted)
        case .rebootRequired:
            logger.notice("configuration: \(request.key) = \(request.value) (applies after a restart)")
            return ChangeConfigurationResponse(status: .rebootRequired)
        case .rejected(let why):
            logger.notice("configuration: \(request.key) not changed: \(why)")
            return ChangeConfigurationResponse(status: .rejected)
        case .notSupported:
            return ChangeConfigurationResponse(status: .notSupported)
        }
    }
}
