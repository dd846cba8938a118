import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// GetReport (B08): the variables matching the component criteria and component/variable
/// filters, answered first, then sent as paged NotifyReport. Too many filters or bytes for
/// DeviceDataCtrlr.ItemsPerMessage / BytesPerMessage[GetReport] is a CALLERROR (B08.FR.17/18).
extension OCPP201ChargingStation {
    func getReport(_ request: GetReportRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(GetReportRequest.action) }
        if let violation = model.limitsExceeded(request) { return Self.refused(violation) }
        let (response, pages) = model.report(request, generatedAt: OCPPTimestamp.string(unixMs: unixMs()))
        return OCPPCallAnswer(.success(response.toJSON())) { await self.sendPages(pages) }
    }
}
