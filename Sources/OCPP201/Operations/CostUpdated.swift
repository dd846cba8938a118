import OCPP201Messages

/// CostUpdated (I05, I06): the CSMS's total cost of a transaction, shown as the running cost
/// while it runs and as the final cost once it has ended. The answer is empty whatever the
/// station does with it.
extension OCPP201ChargingStation {
    func costUpdated(_ request: CostUpdatedRequest) -> CostUpdatedResponse {
        let ongoing = transactions.status(ofTransaction: request.transactionId).ongoing
        showCost(transactionId: request.transactionId, totalCost: request.totalCost, ended: !ongoing, text: nil)
        return CostUpdatedResponse()
    }
}
