import OCPP16Messages

/// RemoteStopTransaction (CSMS → charge point): the session whose transactionId it names ends
/// with reason Remote. Accepted only once the station's core took the stop and put it on disk:
/// a crash before the contactor opens still ends the session after the restart.
extension OCPP16ChargePoint {
    func remoteStopTransaction(_ request: RemoteStopTransactionRequest) async -> RemoteStopTransactionResponse {
        for c in await connectors() {
            guard let session = c.session, transactions.transactionId(ofSession: session.id) == request.transactionId else { continue }
            let taken = await station.requestAccepted(.stopSession(connectorId: c.id, sessionId: session.id, reason: .remote))
            return RemoteStopTransactionResponse(status: taken ? .accepted : .rejected)
        }
        return RemoteStopTransactionResponse(status: .rejected)
    }
}
