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
