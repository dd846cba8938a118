import OCPP16Messages

/// ClearCache (CSMS → charge point): the station empties its authorization cache.
extension OCPP16ChargePoint {
    func clearCache(_ request: ClearCacheRequest) async -> ClearCacheResponse {
        _ = await station.request(.clearAuthorizationCache)
        return ClearCacheResponse(status: .accepted)
    }
}
