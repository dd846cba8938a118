import ChargingCore
import OCPP201Messages
import StationPort

/// RequestStartTransaction (F01, F02): the station's core decides. It takes the start on the
/// named EVSE (or, without one, on a connector with the EV plugged in and waiting, else the
/// first free one) when no transaction runs there, it is operative and not faulted, and — if
/// it is reserved — the token is the reserved one or of its group. With
/// AuthCtrlr.AuthorizeRemoteStart the token is authorized with the CSMS first. The
/// remoteStartId goes with the transaction's Started event; a TxProfile is installed with the CSMS's
/// other profiles, through the port to the core's power allocation. While Pending: Rejected (B02).
extension OCPP201ChargingStation {
    func requestStartTransaction(_ request: RequestStartTransactionRequest) async -> RequestStartTransactionResponse {
        func rejected(_ code: String, _ why: String) -> RequestStartTransactionResponse {
            logger.notice("RequestStartTransaction \(request.remoteStartId) for \(request.idToken.idToken): rejected, \(why)")
            return RequestStartTransactionResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo(code, why))
        }
        guard registration == .accepted else { return rejected("Pending", "the CSMS has not accepted the station yet") }
        if let id = request.evseId, id <= 0 { return rejected("UnknownEvse", "no EVSE \(id)") }
        if let profile = request.chargingProfile {
            // Only a TxProfile for the transaction about to start (F01.FR.09).
            guard profile.chargingProfilePurpose == .txProfile, profile.transactionId == nil else {
                return rejected("InvalidProfile", "the charging profile is not a TxProfile for a new transaction")
            }
            if case .failure(let why) = OCPP201Terms.chargingProfile(profile, connectorId: request.evseId ?? 1) {
                return rejected(why.reasonCode, why.description)
            }
        }
        let token = OCPP201Terms.idToken(request.idToken)
        let group = request.groupIdToken.map(OCPP201Terms.idToken)
        let authorizeFirst = settings.authorizeRemoteStart
        transactions.expectRemoteStart(idToken: token.value, remoteStartId: request.remoteStartId)
        let decision = await station.request(authorizeFirst
            ? .remoteStartCheck(connectorId: request.evseId, idToken: token, parentIdToken: group)
            : .remoteStart(connectorId: request.evseId, idToken: token, parentIdToken: group))
        guard case let .remoteStart(.accepted(connectorId)) = decision else {
            transactions.forgetRemoteStart(idToken: token.value)
            return rejected("Occupied", "the station refused it (EVSE busy, unavailable, faulted or reserved)")
        }
        if let profile = request.chargingProfile {
            // Installed with the others (it goes when the transaction ends); it limits the
            // transaction's power from the next loop step on.
            do { try smartCharging.install(profile, evseId: connectorId, nowUnixMs: unixMs()) } catch {
                logger.error("RequestStartTransaction \(request.remoteStartId): the TxProfile was not installed: \(error)")
            }
        }
        if authorizeFirst { Task { await self.authorizeThenStart(token, connectorId: connectorId) } }
        // A transaction that already runs there is named: the EV plugged in and authorized
        // meanwhile, or one begun when the EV was plugged in (TxStartPoint EVConnected).
        let there = await connectors().first { $0.id == connectorId }
        let running = there.flatMap(transactionId(on:))
        return RequestStartTransactionResponse(status: .accepted, transactionId: running)
    }

    private func authorizeThenStart(_ token: IdToken, connectorId: Int) async {
        do {
            let answer = try await send(AuthorizeRequest(idToken: OCPP201Terms.idTokenType(token)))
            guard answer.idTokenInfo.status == .accepted else {
                logger.notice("remote start of \(token.value): Authorize answered \(answer.idTokenInfo.status.rawValue)")
                return
            }
            _ = await station.request(.remoteStart(connectorId: connectorId, idToken: token,
                                                   parentIdToken: answer.idTokenInfo.groupIdToken.map(OCPP201Terms.idToken)))
        } catch {
            logger.warning("remote start of \(token.value): Authorize failed: \(error)")
        }
    }
}
