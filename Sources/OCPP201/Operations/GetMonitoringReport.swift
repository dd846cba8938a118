import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// GetMonitoringReport (N02): the answer first, then NotifyMonitoringReport pages.
extension OCPP201ChargingStation {
    func getMonitoringReport(_ request: GetMonitoringReportRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(GetMonitoringReportRequest.action) }
        let (response, pages) = model.monitoringReport(request, generatedAt: OCPPTimestamp.string(unixMs: unixMs()))
        return OCPPCallAnswer(.success(response.toJSON())) { await self.sendPages(pages) }
    }
}
