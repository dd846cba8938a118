import OCPP201Messages

/// GetLocalListVersion (D02): 0 when the list is empty or off.
extension OCPP201ChargingStation {
    func getLocalListVersion(_ request: GetLocalListVersionRequest) -> GetLocalListVersionResponse {
        guard settings.localAuthListEnabled else { return GetLocalListVersionResponse(versionNumber: 0) }
        return GetLocalListVersionResponse(versionNumber: (try? localList.currentVersion()) ?? 0)
    }
}
