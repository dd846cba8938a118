import ChargingCore
import OCPP16Messages

/// ClearChargingProfile (CSMS → charge point): removes the profiles matching every criterion
/// given (none given: all of them); Unknown when nothing matched.
extension OCPP16ChargePoint {
    func clearChargingProfile(_ request: ClearChargingProfileRequest) -> ClearChargingProfileResponse {
        let purpose: ChargingProfilePurpose? = request.chargingProfilePurpose.map {
            switch $0 {
            case .chargePointMaxProfile: return .chargingStationMaxProfile
            case .txDefaultProfile: return .txDefaultProfile
            case .txProfile: return .txProfile
            }
        }
        let removed = smartCharging.clear(id: request.id, connectorId: request.connectorId, purpose: purpose,
                                          stackLevel: request.stackLevel)
        logger.notice("ClearChargingProfile: removed \(removed)")
        return ClearChargingProfileResponse(status: removed.isEmpty ? .unknown : .accepted)
    }
}
