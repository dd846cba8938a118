import OCPP201Messages

/// SetChargingProfile (K01): a ChargingStationMaxProfile on EVSE 0, a TxDefaultProfile on 0 or
/// an EVSE, a TxProfile only on an EVSE with a running transaction (and, when it names one, that
/// transaction). Anything the station cannot honour is Rejected with a reasonCode.
extension OCPP201ChargingStation {
    func setChargingProfile(_ request: SetChargingProfileRequest) async -> SetChargingProfileResponse {
        let profile = request.chargingProfile
        func reject(_ code: String, _ why: String) -> SetChargingProfileResponse {
            logger.notice("SetChargingProfile \(profile.id) on EVSE \(request.evseId): rejected, \(why)")
            return SetChargingProfileResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo(code, why))
        }
        let connectors = await connectors()
        guard request.evseId == 0 || connectors.contains(where: { $0.id == request.evseId }) else {
            return reject("UnknownEvse", "no EVSE \(request.evseId)")
        }
        switch profile.chargingProfilePurpose {
        case .chargingStationExternalConstraints:
            return reject("InvalidProfile", "ChargingStationExternalConstraints is set by the station, not the CSMS")
        case .chargingStationMaxProfile:
            guard request.evseId == 0 else { return reject("InvalidEvse", "a ChargingStationMaxProfile goes on EVSE 0") }
        case .txProfile:
            guard let session = connectors.first(where: { $0.id == request.evseId })?.session else {
                return reject("TxNotFound", "a TxProfile needs a running transaction on the EVSE")
            }
            if let wanted = profile.transactionId, wanted != session.id {
                return reject("TxNotFound", "transaction \(wanted) is not the one running")
            }
        case .txDefaultProfile:
            break
        }
        if profile.chargingProfilePurpose != .txProfile, profile.transactionId != nil {
            return reject("InvalidProfile", "only a TxProfile may name a transaction")
        }
        do {
            try smartCharging.install(profile, evseId: request.evseId, nowUnixMs: unixMs())
        } catch {
            return reject(error.reasonCode, error.description)
        }
        logger.notice("SetChargingProfile \(profile.id) (\(profile.chargingProfilePurpose.rawValue)) on EVSE \(request.evseId): accepted")
        return SetChargingProfileResponse(status: .accepted)
    }
}
