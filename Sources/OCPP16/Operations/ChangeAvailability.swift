import OCPP16Messages

import StationPort

/// ChangeAvailability (CSMS → charge point): connector 0 means all. The core answers: a
/// connector with a running session changes when it ends (Scheduled); it keeps and persists the
/// availability.
extension OCPP16ChargePoint {
    func changeAvailability(_ request: ChangeAvailabilityRequest) async -> ChangeAvailabilityResponse {
        let answer = await station.request(.changeAvailability(connectorId: request.connectorId,
                                                               operative: request.type == .operative))
        switch answer {
        case .availability(.accepted?): return ChangeAvailabilityResponse(status: .accepted)
        case .availability(.scheduled?): return ChangeAvailabilityResponse(status: .scheduled)
        default: return ChangeAvailabilityResponse(status: .rejected)
        }
    }
}
