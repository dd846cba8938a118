import FileTransfer
import LogUpload
import OCPP16Messages

/// GetLog (CSMS → charge point, security whitepaper): DiagnosticsLog (the diagnostics archive)
/// or SecurityLog (the security events as text) uploaded to `log.remoteLocation`, reported with
/// LogStatusNotification carrying the requestId. A location that cannot be used is Rejected; a
/// request while another upload runs gives that one up (AcceptedCanceled).
extension OCPP16ChargePoint {
    func getLog(_ request: GetLogRequest) async -> GetLogResponse {
        guard let diagnostics else { return GetLogResponse(status: .rejected) }
        do {
            _ = try FileTransferURL(request.log.remoteLocation)
        } catch {
            logger.warning("GetLog \(request.requestId): \(error)")
            return GetLogResponse(status: .rejected)
        }
        let started = await diagnostics.start(
            .init(upload: .log(DiagnosticsService.LogKind(rawValue: request.logType.rawValue) ?? .diagnosticsLog, requestId: request.requestId),
                  location: request.log.remoteLocation,
                  fromMs: request.log.oldestTimestamp.flatMap(OCPP16Timestamp.unixMs),
                  toMs: request.log.latestTimestamp.flatMap(OCPP16Timestamp.unixMs),
                  retries: request.retries, retryIntervalSeconds: request.retryInterval),
            stationName: identity.serialNumber ?? identity.model, snapshot: await diagnosticsSnapshot())
        logger.notice("GetLog \(request.logType.rawValue) \(request.requestId): uploading \(started.fileName)")
        return GetLogResponse(status: started.canceledRunning ? .acceptedCanceled : .accepted, filename: started.fileName)
    }
}
