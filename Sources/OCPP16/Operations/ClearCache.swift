import OCPP16Messages

/// ClearCache (CSMS → charge point): the station empties its authorization cache.
extension OCPP16ChargePoint {
    func clearCache(_ request: ClearCacheRequest) -> ClearCacheResponse {
        station.perform(.clearAuthorizationCache)
        return ClearCacheResponse(status: .accepted)
    }
}
