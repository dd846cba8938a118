import OCPP16Messages

/// SetChargingProfile (CSMS → charge point): a ChargePointMaxProfile on connector 0, a
/// TxDefaultProfile on 0 or a connector, a TxProfile only on a connector with a running
/// transaction (and, when it names one, that transaction). Anything invalid is Rejected.
extension OCPP16ChargePoint {
    func setChargingProfile(_ request: SetChargingProfileRequest) async -> SetChargingProfileResponse {
        let profile = request.csChargingProfiles
        let connectorId = request.connectorId
        func reject(_ why: String) -> SetChargingProfileResponse {
            logger.notice("SetChargingProfile \(profile.chargingProfileId) on \(connectorId): rejected, \(why)")
            return SetChargingProfileResponse(status: .rejected)
        }
        let connectors = await self.connectors()
        guard connectorId >= 0, connectorId <= connectors.count else { return reject("no connector \(connectorId)") }
        if profile.chargingProfilePurpose == .txProfile {
            guard let session = connectors.first(where: { $0.id == connectorId })?.session else {
                return reject("a TxProfile needs a running transaction")
            }
            if let wanted = profile.transactionId, transactions.transactionId(ofSession: session.id) != wanted {
                return reject("transaction \(wanted) is not the one running")
            }
        } else if profile.transactionId != nil {
            return reject("only a TxProfile may name a transaction")
        }
        do {
            try smartCharging.install(profile, connectorId: connectorId, receivedAt: Int64(unixMs() / 1_000))
        } catch {
            return reject(String(describing: error))
        }
        logger.notice("SetChargingProfile \(profile.chargingProfileId) (\(profile.chargingProfilePurpose.rawValue)) on \(connectorId): accepted")
        return SetChargingProfileResponse(status: .accepted)
    }
}
