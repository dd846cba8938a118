import OCPP16Messages

/// ChangeAvailability (CSMS → charge point): connector 0 means all. A connector with a running
/// session changes when it ends (Scheduled); the core keeps and persists the availability.
extension OCPP16ChargePoint {
    func changeAvailability(_ request: ChangeAvailabilityRequest) -> ChangeAvailabilityResponse {
        let connectors = connectorsNow()
        let targets = request.connectorId == 0 ? connectors : connectors.filter { $0.id == request.connectorId }
        guard !targets.isEmpty else { return ChangeAvailabilityResponse(status: .rejected) }
        let operative = request.type == .operative
        for c in targets { station.perform(.setAvailability(connectorId: c.id, operative: operative)) }
        let busy = !operative && targets.contains { $0.session != nil }
        return ChangeAvailabilityResponse(status: busy ? .scheduled : .accepted)
    }
}
