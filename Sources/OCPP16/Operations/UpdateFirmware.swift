import FirmwareUpdate
import FileTransfer
import OCPP16Messages
import OCPPTransport

/// UpdateFirmware (CSMS → charge point, FirmwareManagement): answered at once (the answer is
/// empty); the FirmwareService downloads after retrieveDate (a date in the past means now) and
/// reports each step with FirmwareStatusNotification.
extension OCPP16ChargePoint {
    /// A station that requires signed firmware (security whitepaper) refuses the unsigned kind
    /// with a CallError: the 1.6 answer has no status to say so.
    func answerUpdateFirmware(_ request: UpdateFirmwareRequest) async -> OCPPCallAnswer {
        if fileServices?.requireSignedFirmware == true {
            return OCPPCallAnswer(.failure(OCPPCallError(.notSupported, "only SignedUpdateFirmware is accepted (security whitepaper)")))
        }
        return OCPPCallAnswer(.success(await updateFirmware(request).toJSON()))
    }

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
