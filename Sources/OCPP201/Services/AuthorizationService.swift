import ChargingCore
import OCPP201Messages
import StationPort
import Storage

/// Authorization (blocks C and D): Authorize for the tokens the core cannot decide alone, the
/// cache (ClearCache) and the local list (SendLocalList, GetLocalListVersion) in the station's
/// stores, which the core reads when a token is presented.
enum AuthorizationService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(ClearCacheRequest.self) { station, request in await station.clearCache(request) }
        registry.register(SendLocalListRequest.self) { station, request in station.sendLocalList(request) }
        registry.register(GetLocalListVersionRequest.self) { station, request in station.getLocalListVersion(request) }
    }
}
