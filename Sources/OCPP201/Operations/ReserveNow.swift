import ChargingCore
import OCPP201Messages
import OCPPJSON
import StationPort

/// ReserveNow (H01): on the named EVSE, or without one on the first available EVSE (the
/// station's connectors are all of the type the board has: a connectorType is not told apart).
extension OCPP201ChargingStation {
    func reserveNow(_ request: ReserveNowRequest) async -> ReserveNowResponse {
        func answer(_ status: ReserveNowResponse.ReserveNowStatusEnumType, _ code: String? = nil, _ why: String? = nil) -> ReserveNowResponse {
            ReserveNowResponse(status: status, statusInfo: code.map { OCPP201Terms.statusInfo($0, why) })
        }
        guard settings.reservationEnabled else { return answer(.rejected, "ReservationDisabled", "ReservationCtrlr.Enabled is false") }
        guard let expiry = OCPPTimestamp.unixMs(request.expiryDateTime) else { return answer(.rejected, "InvalidExpiry") }
        let connectors = await connectors()
        let evseId: Int
        if let wanted = request.evseId {
            guard connectors.contains(where: { $0.id == wanted }) else { return answer(.rejected, "UnknownEvse", "no EVSE \(wanted)") }
            evseId = wanted
        } else {
            guard let free = connectors.first(where: { $0.status == .available }) else {
                return answer(connectors.allSatisfy { $0.status == .faulted } ? .faulted
                              : connectors.allSatisfy { $0.status == .unavailable } ? .unavailable : .occupied)
            }
            evseId = free.id
        }
        let reply = await station.request(.reserve(ReservationRequest(
            connectorId: evseId, reservationId: request.id, idToken: OCPP201Terms.idToken(request.idToken),
            parentIdToken: request.groupIdToken.map(OCPP201Terms.idToken), expiresAtUnixMs: expiry)))
        guard case let .reservation(decision) = reply else { return answer(.rejected) }
        switch decision {
        case .accepted?: return answer(.accepted)
        case .occupied?: return answer(.occupied)
        case .faulted?: return answer(.faulted)
        case .unavailable?: return answer(.unavailable)
        case .rejected?, nil: return answer(.rejected)
        }
    }
}
