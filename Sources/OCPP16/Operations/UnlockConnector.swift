import OCPP16Messages

/// UnlockConnector (CSMS → charge point): the station ends a running session (UnlockCommand),
/// releases the cable lock and answers from the lock's feedback: Unlocked, UnlockFailed (it did
/// not open), NotSupported (no such connector, or a tethered cable without a lock).
extension OCPP16ChargePoint {
    func unlockConnector(_ request: UnlockConnectorRequest) async -> UnlockConnectorResponse {
        guard request.connectorId > 0, connectorsNow().contains(where: { $0.id == request.connectorId }) else {
            return UnlockConnectorResponse(status: .notSupported)
        }
        let outcome = await station.unlock(connectorId: request.connectorId)
        logger.notice("UnlockConnector \(request.connectorId): \(outcome)")
        switch outcome {
        case .unlocked: return UnlockConnectorResponse(status: .unlocked)
        case .unlockFailed: return UnlockConnectorResponse(status: .unlockFailed)
        case .notSupported: return UnlockConnectorResponse(status: .notSupported)
        }
    }
}
