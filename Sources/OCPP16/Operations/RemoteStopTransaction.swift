import OCPP16Messages

/// RemoteStopTransaction (CSMS → charge point): the session whose transactionId it names ends
/// with reason Remote.
extension OCPP16ChargePoint {
    func remoteStopTransaction(_ request: RemoteStopTransactionRequest) -> RemoteStopTransactionResponse {
        for c in connectorsNow() {
            guard let session = c.session, transactions.transactionId(ofSession: session.id) == request.transactionId else { continue }
            station.perform(.stopSession(connectorId: c.id, reason: .remote))
            return RemoteStopTransactionResponse(status: .accepted)
        }
        return RemoteStopTransactionResponse(status: .rejected)
    }
}
