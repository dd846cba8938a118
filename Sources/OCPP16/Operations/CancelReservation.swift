import OCPP16Messages

/// CancelReservation (CSMS → charge point): Accepted when a connector held that reservation.
extension OCPP16ChargePoint {
    func cancelReservation(_ request: CancelReservationRequest) async -> CancelReservationResponse {
        CancelReservationResponse(status: await ReservationService(station: station).cancel(request))
    }
}
