import StationPort
import OCPP16Messages

/// ChangeConfiguration (CSMS → charge point): validated and persisted by the
/// ConfigurationService, then applied at once: authorization and session rules go to the
/// station (its next decision follows them), the ping interval to the live connection. Setting
/// a key to the value it has is Accepted too.
extension OCPP16ChargePoint {
    func changeConfiguration(_ request: ChangeConfigurationRequest) -> ChangeConfigurationResponse {
        if SecurityService.securityKeys.contains(request.key) { return changeSecurityKey(request) }
        let result = configuration.change(request.key, to: request.value)
        if request.key == "StopTxnSampledData" || request.key == "StopTxnAlignedData" {
            transactions.setStopTransactionMeasurands(sampled: configuration.measurands("StopTxnSampledData"),
                                                      aligned: configuration.measurands("StopTxnAlignedData"))
        }
        if result == .accepted { applyAtOnce(request.key) }
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

    /// A stored change takes effect now, where it is used.
    private func applyAtOnce(_ key: String) {
        if ConfigurationService.authorizationRuleKeys.contains(key) {
            station.submit(.authorizationRules(configuration.authorizationRules))
        } else if ConfigurationService.sessionRuleKeys.contains(key) {
            station.submit(.sessionRules(configuration.sessionRules))
        } else if CaliforniaPricingService.displayKeys.contains(key) {
            applyDisplayKeys()
        } else if key == "HeartbeatInterval" {
            restartHeartbeat()
        } else if key == "MeterValueSampleInterval" || key == "ClockAlignedDataInterval" {
            restartMetering()
        } else if key == "WebSocketPingInterval" {
            pingInterval?.set(seconds: configuration.int("WebSocketPingInterval") ?? 0)
        }
    }
}
