import ChargingCore
import OCPP16Messages

/// Authorize (charge point → CSMS): the answer becomes the core's `AuthorizationInfo`. So does
/// every other `idTagInfo` (StartTransaction, StopTransaction, local-list entries): the expiry
/// goes with it, so an entry cached or listed with a date in the past is refused offline.
enum AuthorizeOperation {
    static func info(_ tagInfo: IdTagInfo) -> AuthorizationInfo {
        let status: ChargingCore.AuthorizationStatus
        switch tagInfo.status {
        case .accepted: status = .accepted
        case .blocked: status = .blocked
        case .expired: status = .expired
        case .invalid: status = .invalid
        case .concurrentTx: status = .concurrentTx
        }
        // The payload validation has checked the date's form; one it still cannot read is
        // dropped rather than guessed (the CSMS's status stands, without an expiry).
        return AuthorizationInfo(status: status, parentIdToken: tagInfo.parentIdTag.map { IdToken($0, kind: .central) },
                                 expiresAtUnixMs: tagInfo.expiryDate.flatMap(OCPP16Timestamp.unixMs))
    }
}

/// The station asks for a token it cannot decide locally: the CSMS is asked while it can be;
/// otherwise (or when it does not answer) the station hears "no answer" and applies its offline rules.
extension OCPP16ChargePoint {
    func authorizeForStation(_ token: IdToken) async {
        guard mayInitiate else {
            station.submit(.authorizationResult(token, nil))
            return
        }
        do {
            let answer = try await send(AuthorizeRequest(idTag: String(token.value.prefix(20))))
            station.submit(.authorizationResult(token, AuthorizeOperation.info(answer.idTagInfo)))
        } catch {
            logger.warning("Authorize \(token.value): \(error)")
            station.submit(.authorizationResult(token, nil))
        }
    }
}
