import OCPP16Messages

/// DataTransfer (CSMS → charge point): no vendor extensions are implemented.
extension OCPP16ChargePoint {
    func dataTransfer(_ request: DataTransferRequest) -> DataTransferResponse {
        DataTransferResponse(status: .unknownVendorId)
    }
}
