import OCPP201Messages
import StationPort

/// ClearCache (C11): the core empties its authorization cache; Rejected while the cache is off.
extension OCPP201ChargingStation {
    func clearCache(_ request: ClearCacheRequest) async -> ClearCacheResponse {
        guard settings.authCacheEnabled else {
            return ClearCacheResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("CacheDisabled", "AuthCacheCtrlr.Enabled is false"))
        }
        let accepted = await station.requestAccepted(.clearAuthorizationCache)
        return ClearCacheResponse(status: accepted ? .accepted : .rejected)
    }
}
