import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// GetBaseReport (B07): the answer first, then the NotifyReport pages (seqNo from 0, tbc on all
/// but the last), one after the other.
extension OCPP201ChargingStation {
    func getBaseReport(_ request: GetBaseReportRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(GetBaseReportRequest.action) }
        let (response, pages) = model.baseReport(request, generatedAt: OCPPTimestamp.string(unixMs: unixMs()))
        return OCPPCallAnswer(.success(response.toJSON())) { await self.sendPages(pages) }
    }
}
