import OCPP16Messages

/// ReserveNow (CSMS → charge point): the station's core answers; connector 0 only when
/// ReserveConnectorZeroSupported says so.
extension OCPP16ChargePoint {
    func reserveNow(_ request: ReserveNowRequest) async -> ReserveNowResponse {
        let status = await ReservationService(station: station)
            .reserve(request, connectorZeroSupported: configuration.bool("ReserveConnectorZeroSupported"))
        logger.info("ReserveNow \(request.reservationId) on connector \(request.connectorId) for \(request.idTag): \(status.rawValue)")
        return ReserveNowResponse(status: status)
    }
}
