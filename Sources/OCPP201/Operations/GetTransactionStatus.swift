import OCPP201Messages

/// GetTransactionStatus (E14): are TransactionEvents still queued (of one transaction, or any),
/// and does that transaction still run.
extension OCPP201ChargingStation {
    func getTransactionStatus(_ request: GetTransactionStatusRequest) -> GetTransactionStatusResponse {
        guard let id = request.transactionId else {
            return GetTransactionStatusResponse(messagesInQueue: transactions.pendingCount() > 0)
        }
        let status = transactions.status(ofTransaction: id)
        return GetTransactionStatusResponse(ongoingIndicator: status.ongoing, messagesInQueue: status.queued)
    }
}
