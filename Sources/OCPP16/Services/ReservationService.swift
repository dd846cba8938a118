import ChargingCore
import OCPP16Messages
import StationPort

/// The Reservation profile: the core's connector state machine holds the reservation (its
/// status becomes Reserved, expiry ends it, only the reserved token or its parent starts);
/// this turns ReserveNow / CancelReservation into the station's reserve and cancel.
public struct ReservationService: Sendable {
    let station: any StationPort

    public init(station: any StationPort) {
        self.station = station
    }

    public func reserve(_ request: ReserveNowRequest, connectorZeroSupported: Bool) async -> ReserveNowResponse.ReservationStatus {
        guard let expiry = OCPP16Timestamp.unixMs(request.expiryDate) else { return .rejected }
        let connectors = await station.connectors()
        var connectorId = request.connectorId
        if connectorId == 0 {
            // A reservation of the charge point: one connector is held for the token (the first
            // one free), so it can always start.
            guard connectorZeroSupported else { return .rejected }
            guard let free = connectors.first(where: { $0.status == .available }) else {
                return connectors.contains { $0.status == .faulted } ? .faulted : .occupied
            }
            connectorId = free.id
        }
        guard connectors.contains(where: { $0.id == connectorId }) else { return .rejected }
        let reply = await station.request(.reserve(ReservationRequest(
            connectorId: connectorId, reservationId: request.reservationId,
            // 1.6 knows only the value; the core compares kinds too, so the reserved tag takes the
            // kind a card at the reader has (parents come as the backend's, `.central`).
            idToken: IdToken(request.idTag, kind: .iso14443),
            parentIdToken: request.parentIdTag.map { IdToken($0, kind: .central) },
            expiresAtUnixMs: expiry)))
        guard case let .reservation(answer) = reply else { return .rejected }
        switch answer {
        case .accepted: return .accepted
        case .occupied: return .occupied
        case .faulted: return .faulted
        case .unavailable: return .unavailable
        case .rejected, nil: return .rejected
        }
    }

    public func cancel(_ request: CancelReservationRequest) async -> CancelReservationResponse.CancelReservationStatus {
        await station.requestAccepted(.cancelReservation(id: request.reservationId)) ? .accepted : .rejected
    }
}

extension ReservationService {
    /// Reservation.
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(ReserveNowRequest.self) { chargePoint, request in await chargePoint.reserveNow(request) }
        registry.register(CancelReservationRequest.self) { chargePoint, request in await chargePoint.cancelReservation(request) }
    }
}
