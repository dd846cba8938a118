import ChargingCore
import OCPP201Messages

/// ClearChargingProfile (K10): by id, or by every criterion given (EVSE, purpose, stack
/// level); Unknown when nothing matched.
extension OCPP201ChargingStation {
    func clearChargingProfile(_ request: ClearChargingProfileRequest) -> ClearChargingProfileResponse {
        let criteria = request.chargingProfileCriteria
        var purpose: ChargingProfilePurpose?
        if let p = criteria?.chargingProfilePurpose {
            guard let known = OCPP201Terms.purpose(p) else { return ClearChargingProfileResponse(status: .unknown) }
            purpose = known
        }
        let removed = smartCharging.clear(id: request.chargingProfileId, evseId: criteria?.evseId, purpose: purpose,
                                          stackLevel: criteria?.stackLevel)
        return ClearChargingProfileResponse(status: removed.isEmpty ? .unknown : .accepted)
    }
}
