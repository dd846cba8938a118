import OCPP16Messages

/// UnlockConnector (CSMS → charge point): a running session ends first (UnlockCommand), then
/// the station releases the cable lock.
extension OCPP16ChargePoint {
    func unlockConnector(_ request: UnlockConnectorRequest) -> UnlockConnectorResponse {
        guard let c = connectorsNow().first(where: { $0.id == request.connectorId }) else {
            return UnlockConnectorResponse(status: .notSupported)
        }
        if c.session != nil { station.perform(.stopSession(connectorId: c.id, reason: .unlockCommand)) }
        station.perform(.unlock(connectorId: c.id))
        return UnlockConnectorResponse(status: .unlocked)
    }
}
