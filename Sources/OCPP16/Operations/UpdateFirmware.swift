import FileTransfer
import OCPP16Messages

/// UpdateFirmware (CSMS → charge point, FirmwareManagement): answered at once (the answer is
/// empty); the FirmwareService downloads after retrieveDate (a date in the past means now) and
/// reports each step with FirmwareStatusNotification.
extension OCPP16ChargePoint {
    func updateFirmware(_ request: UpdateFirmwareRequest) async -> UpdateFirmwareResponse {
        guard let firmware else { return UpdateFirmwareResponse() }
        do {
            _ = try FileTransferURL(request.location)
        } catch {
            // 1.6 has no way to refuse it: the CSMS hears DownloadFailed.
            logger.warning("UpdateFirmware: \(error)")
            fileStatusOutbox.post(.firmware(FirmwareStatusNotificationRequest(status: .downloadFailed)))
            return UpdateFirmwareResponse()
        }
        // The schema already checked the date's form.
        let retrieveAt = OCPP16Timestamp.unixMs(request.retrieveDate) ?? unixMs()
        _ = await firmware.update(location: request.location, retrieveAtMs: retrieveAt, retries: request.retries,
                                  retryInterval: request.retryInterval)
        return UpdateFirmwareResponse()
    }
}
