import ChargingCore
import OCPP16Messages

/// Authorize (charge point → CSMS): the answer becomes the core's `AuthorizationInfo`.
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
        return AuthorizationInfo(status: status, parentIdToken: tagInfo.parentIdTag.map { IdToken($0, kind: .central) },
                                 expiresAtUnixMs: nil)
    }
}
