import OCPP16Messages

/// GetLocalListVersion (CSMS → charge point): 0 without a list, -1 when LocalAuthListEnabled is false.
extension OCPP16ChargePoint {
    func getLocalListVersion(_ request: GetLocalListVersionRequest) -> GetLocalListVersionResponse {
        GetLocalListVersionResponse(listVersion: localList.version(enabled: configuration.bool("LocalAuthListEnabled")))
    }
}
