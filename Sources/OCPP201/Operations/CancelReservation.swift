import OCPP201Messages
import StationPort

/// CancelReservation (H02): Accepted when an EVSE held that reservation.
extension OCPP201ChargingStation {
    func cancelReservation(_ request: CancelReservationRequest) async -> CancelReservationResponse {
        let accepted = await station.requestAccepted(.cancelReservation(id: request.reservationId))
        return CancelReservationResponse(status: accepted ? .accepted : .rejected)
    }
}
