import OCPP16Messages
import StationPort

/// UnlockConnector (CSMS → charge point): the station ends a running session (UnlockCommand),
/// releases the cable lock and answers from the lock's feedback: Unlocked, UnlockFailed (it did
/// not open), NotSupported (no such connector, or a tethered cable without a lock).
extension OCPP16ChargePoint {
    func unlockConnector(_ request: UnlockConnectorRequest) async -> UnlockConnectorResponse {
        guard request.connectorId > 0, case let .unlock(outcome) = await station.request(.unlock(connectorId: request.connectorId))
        else { return UnlockConnectorResponse(status: .notSupported) }
        logger.notice("UnlockConnector \(request.connectorId): \(outcome)")
        switch outcome {
        case .unlocked: return UnlockConnectorResponse(status: .unlocked)
        case .unlockFailed: return UnlockConnectorResponse(status: .unlockFailed)
        case .notSupported: return UnlockConnectorResponse(status: .notSupported)
        }
    }
}
