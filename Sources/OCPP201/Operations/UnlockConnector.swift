import OCPP201Messages
import StationPort

/// UnlockConnector (F05): releases the cable lock and answers from the lock's feedback. A
/// connector with a running transaction stays locked (OngoingAuthorizedTransaction, F05.FR.02):
/// the CSMS stops the transaction first. EVSE n has one connector, id 1.
extension OCPP201ChargingStation {
    func unlockConnector(_ request: UnlockConnectorRequest) async -> UnlockConnectorResponse {
        guard request.evseId > 0, request.connectorId == 1 else {
            return UnlockConnectorResponse(status: .unknownConnector)
        }
        let connectors = await connectors()
        guard let c = connectors.first(where: { $0.id == request.evseId }) else {
            return UnlockConnectorResponse(status: .unknownConnector)
        }
        if c.session != nil { return UnlockConnectorResponse(status: .ongoingAuthorizedTransaction) }
        guard case let .unlock(outcome) = await station.request(.unlock(connectorId: request.evseId)) else {
            return UnlockConnectorResponse(status: .unknownConnector)
        }
        logger.notice("UnlockConnector EVSE \(request.evseId): \(outcome)")
        switch outcome {
        case .unlocked: return UnlockConnectorResponse(status: .unlocked)
        case .unlockFailed: return UnlockConnectorResponse(status: .unlockFailed)
        case .notSupported:
            // A tethered cable: there is no lock to open.
            return UnlockConnectorResponse(status: .unlockFailed, statusInfo: OCPP201Terms.statusInfo("NoLock", "this connector has no cable lock"))
        }
    }
}
