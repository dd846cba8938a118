import OCPP16Messages

/// DataTransfer (CSMS → charge point): routed by vendorId to the service of that extension;
/// any other vendor is UnknownVendorId.
extension OCPP16ChargePoint {
    func dataTransfer(_ request: DataTransferRequest) -> DataTransferResponse {
        switch request.vendorId {
        case CaliforniaPricingService.vendorId: return californiaPricingDataTransfer(request)
        default: return DataTransferResponse(status: .unknownVendorId)
        }
    }
}
