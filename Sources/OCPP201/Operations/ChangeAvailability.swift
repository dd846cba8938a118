import OCPP201Messages
import StationPort

/// ChangeAvailability (G03–G05): no EVSE means the station; an EVSE or its connector 1 means
/// that connector. The core decides and persists it: a connector with a running transaction
/// changes when it ends (Scheduled).
extension OCPP201ChargingStation {
    func changeAvailability(_ request: ChangeAvailabilityRequest) async -> ChangeAvailabilityResponse {
        var target = 0
        if let evse = request.evse {
            guard evse.id > 0, evse.connectorId == nil || evse.connectorId == 1 else {
                return ChangeAvailabilityResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("UnknownEvse",
                    "EVSE \(evse.id) connector \(evse.connectorId.map(String.init) ?? "-") does not exist"))
            }
            target = evse.id
        }
        let answer = await station.request(.changeAvailability(connectorId: target,
                                                               operative: request.operationalStatus == .operative))
        switch answer {
        case .availability(.accepted?): return ChangeAvailabilityResponse(status: .accepted)
        case .availability(.scheduled?): return ChangeAvailabilityResponse(status: .scheduled)
        default:
            return ChangeAvailabilityResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("UnknownEvse",
                "no EVSE \(target)"))
        }
    }
}
