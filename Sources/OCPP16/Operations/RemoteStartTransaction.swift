import ChargingCore
import OCPP16Messages
import StationPort

/// RemoteStartTransaction (CSMS → charge point): the station's core decides. It takes the start
/// on the named connector (or, without one, on a connector with the EV plugged in and waiting,
/// else the first free one) when no session runs there, it is operative and not faulted, and —
/// if the connector is reserved — the idTag is the reserved one or shares its parent. The
/// session then starts as if the token had been presented (cable first or start first). With
/// AuthorizeRemoteTxRequests the token is authorized with the CSMS first. A charging profile (a
/// TxProfile) is installed on the connector for the transaction that starts.
extension OCPP16ChargePoint {
    func remoteStartTransaction(_ request: RemoteStartTransactionRequest) async -> RemoteStartTransactionResponse {
        func rejected(_ why: String) -> RemoteStartTransactionResponse {
            logger.notice("RemoteStartTransaction for \(request.idTag) on \(request.connectorId.map(String.init) ?? "any connector"): rejected, \(why)")
            return RemoteStartTransactionResponse(status: .rejected)
        }
        if let id = request.connectorId, id <= 0 { return rejected("no connector \(id)") }
        if let profile = request.chargingProfile {
            // Only a TxProfile for the transaction about to start (OCPP 1.6 §5.11).
            guard profile.chargingProfilePurpose == .txProfile, profile.transactionId == nil else {
                return rejected("the charging profile is not a TxProfile")
            }
            do { try SmartChargingService.validate(profile) } catch { return rejected("\(error)") }
        }
        // 1.6 idTags carry no kind: the backend's, which identifies the card of the same value.
        let token = IdToken(request.idTag, kind: .central)
        let authorizeFirst = configuration.bool("AuthorizeRemoteTxRequests")
        let decision = await station.request(authorizeFirst
            ? .remoteStartCheck(connectorId: request.connectorId, idToken: token, parentIdToken: nil)
            : .remoteStart(connectorId: request.connectorId, idToken: token, parentIdToken: nil))
        guard case let .remoteStart(.accepted(connectorId)) = decision else { return rejected("the station refused it") }
        if let profile = request.chargingProfile {
            do { try smartCharging.install(profile, connectorId: connectorId, receivedAt: Int64(unixMs() / 1_000)) } catch {
                logger.error("RemoteStartTransaction for \(request.idTag): the TxProfile was not installed: \(error)")
            }
        }
        if authorizeFirst { Task { await self.authorizeThenStart(token, connectorId: connectorId) } }
        return RemoteStartTransactionResponse(status: .accepted)
    }

    private func authorizeThenStart(_ token: IdToken, connectorId: Int) async {
        do {
            let answer = try await send(AuthorizeRequest(idTag: String(token.value.prefix(20))))
            guard answer.idTagInfo.status == .accepted else {
                logger.notice("remote start of \(token.value): Authorize answered \(answer.idTagInfo.status.rawValue)")
                return
            }
            let parent = answer.idTagInfo.parentIdTag.map { IdToken($0, kind: .central) }
            _ = await station.request(.remoteStart(connectorId: connectorId, idToken: token, parentIdToken: parent))
        } catch {
            logger.warning("remote start of \(token.value): Authorize failed: \(error)")
        }
    }
}
