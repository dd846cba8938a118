import FileTransfer
import LogUpload
import OCPP201Messages
import OCPPJSON

/// GetLog (N01): DiagnosticsLog (the diagnostics archive) or SecurityLog (the security events as
/// text) uploaded to `log.remoteLocation`, answered with the file name, each step reported as
/// LogStatusNotification with the requestId. A location that cannot be used is Rejected; a
/// request while another upload runs gives that one up (AcceptedCanceled).
extension OCPP201ChargingStation {
    func getLog(_ request: GetLogRequest) async -> GetLogResponse {
        guard let logs else {
            return GetLogResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("NotSupported", "no upload settings"))
        }
        do { _ = try FileTransferURL(request.log.remoteLocation) } catch {
            logger.warning("GetLog \(request.requestId): \(error)")
            return GetLogResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("InvalidURL", "\(error)"))
        }
        let kind: DiagnosticsService.LogKind = request.logType == .securityLog ? .securityLog : .diagnosticsLog
        let started = await logs.start(
            .init(upload: .log(kind, requestId: request.requestId), location: request.log.remoteLocation,
                  fromMs: request.log.oldestTimestamp.flatMap(OCPPTimestamp.unixMs),
                  toMs: request.log.latestTimestamp.flatMap(OCPPTimestamp.unixMs),
                  retries: request.retries, retryIntervalSeconds: request.retryInterval),
            stationName: identity.serialNumber ?? identity.model, snapshot: await diagnosticsSnapshot())
        logger.notice("GetLog \(request.logType.rawValue) \(request.requestId): uploading \(started.fileName)")
        return GetLogResponse(status: started.canceledRunning ? .acceptedCanceled : .accepted, filename: started.fileName)
    }
}
