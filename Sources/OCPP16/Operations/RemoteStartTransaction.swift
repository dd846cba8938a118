import ChargingCore
import OCPP16Messages

/// RemoteStartTransaction (CSMS → charge point): accepted when the connector (or, without
/// one, the first connector) is free and operative; the core then starts the session as if
/// the token had been presented (cable first or start first). With AuthorizeRemoteTxRequests
/// the token is authorized with the CSMS first. A charging profile (a TxProfile) is installed
/// on the connector for the transaction that starts.
extension OCPP16ChargePoint {
    func remoteStartTransaction(_ request: RemoteStartTransactionRequest) -> RemoteStartTransactionResponse {
        let connectors = connectorsNow()
        let free: (OCPP16ConnectorSnapshot) -> Bool = {
            $0.session == nil && [.available, .preparing, .finishing, .suspendedEV].contains($0.status ?? .unavailable)
        }
        let target: OCPP16ConnectorSnapshot?
        if let id = request.connectorId {
            target = connectors.first { $0.id == id && id > 0 }
        } else {
            target = connectors.first { free($0) && $0.vehicleConnected } ?? connectors.first(where: free)
        }
        guard let c = target, free(c) else {
            logger.notice("RemoteStartTransaction for \(request.idTag) on \(request.connectorId.map(String.init) ?? "any connector"): rejected")
            return RemoteStartTransactionResponse(status: .rejected)
        }
        if let profile = request.chargingProfile {
            // Only a TxProfile for the transaction about to start (OCPP 1.6 §5.11).
            guard profile.chargingProfilePurpose == .txProfile, profile.transactionId == nil else {
                logger.notice("RemoteStartTransaction for \(request.idTag): rejected, the charging profile is not a TxProfile")
                return RemoteStartTransactionResponse(status: .rejected)
            }
            do { try smartCharging.install(profile, connectorId: c.id, receivedAt: Int64(unixMs() / 1_000)) } catch {
                logger.notice("RemoteStartTransaction for \(request.idTag): rejected, \(error)")
                return RemoteStartTransactionResponse(status: .rejected)
            }
        }
        let token = IdToken(request.idTag, kind: .central)
        if configuration.bool("AuthorizeRemoteTxRequests") {
            Task { await self.authorizeThenStart(token, connectorId: c.id) }
        } else {
            station.perform(.remoteStart(connectorId: c.id, idToken: token))
        }
        return RemoteStartTransactionResponse(status: .accepted)
    }

    private func authorizeThenStart(_ token: IdToken, connectorId: Int) async {
        do {
            let answer = try await send(AuthorizeRequest(idTag: String(token.value.prefix(20))))
            guard answer.idTagInfo.status == .accepted else {
                logger.notice("remote start of \(token.value): Authorize answered \(answer.idTagInfo.status.rawValue)")
                return
            }
            station.perform(.remoteStart(connectorId: connectorId, idToken: token))
        } catch {
            logger.warning("remote start of \(token.value): Authorize failed: \(error)")
        }
    }
}
