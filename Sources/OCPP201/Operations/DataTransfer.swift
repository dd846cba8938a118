import OCPP201Messages

extension OCPP201ChargingStation {
    /// DataTransfer (P01): this station knows no vendor extensions.
    func dataTransfer(_ request: DataTransferRequest) -> DataTransferResponse {
        DataTransferResponse(status: .unknownVendorId)
    }
}
