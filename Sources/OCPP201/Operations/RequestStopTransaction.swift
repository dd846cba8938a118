import OCPP201Messages
import StationPort

/// RequestStopTransaction (F03): Accepted once the station holds the stop on disk (a restart
/// carries it out); Rejected for a transaction that does not run here. A transaction begun
/// before its session (TxStartPoint EVConnected or Authorized) ends at once, Remote.
extension OCPP201ChargingStation {
    func requestStopTransaction(_ request: RequestStopTransactionRequest) async -> RequestStopTransactionResponse {
        guard registration == .accepted else {
            return RequestStopTransactionResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("Pending",
                "the CSMS has not accepted the station yet"))
        }
        let id = request.transactionId
        guard let c = await connectors().first(where: { transactionId(on: $0) == id }) else {
            return RequestStopTransactionResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("TxNotFound",
                "no transaction \(request.transactionId) runs here"))
        }
        let accepted = await station.requestAccepted(.stopSession(connectorId: c.id, sessionId: request.transactionId, reason: .remote))
        return RequestStopTransactionResponse(status: accepted ? .accepted : .rejected)
    }
}
