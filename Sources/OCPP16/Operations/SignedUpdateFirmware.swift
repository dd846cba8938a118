import FirmwareUpdate
import FileTransfer
import OCPP16Messages
import OCPPSecurity

/// SignedUpdateFirmware (CSMS → charge point, security whitepaper): the signing certificate is
/// checked against the installed ManufacturerRootCertificates before anything else
/// (InvalidCertificate and an InvalidFirmwareSigningCertificate security event when it does not
/// chain); then the FirmwareService downloads, checks the signature over the file and installs,
/// reporting each step with SignedFirmwareStatusNotification. A new request gives up a running
/// update (AcceptedCanceled); one that arrives during an installation is Rejected.
extension OCPP16ChargePoint {
    func signedUpdateFirmware(_ request: SignedUpdateFirmwareRequest) async -> SignedUpdateFirmwareResponse {
        guard let firmware else { return SignedUpdateFirmwareResponse(status: .rejected) }
        let now = unixMs()
        do {
            _ = try FileTransferURL(request.firmware.location)
        } catch {
            logger.warning("SignedUpdateFirmware \(request.requestId): \(error)")
            return SignedUpdateFirmwareResponse(status: .rejected)
        }
        do {
            guard let certificates = security.certificates else {
                throw FirmwareVerificationError.invalidCertificate("no certificate store: no ManufacturerRootCertificate installed")
            }
            try FirmwareSignatureVerifier(store: certificates)
                .validateSigningCertificate(request.firmware.signingCertificate, at: Int64(now / 1_000))
        } catch {
            let refusal = error as? FirmwareVerificationError ?? .invalidCertificate("\(error)")
            logger.warning("SignedUpdateFirmware \(request.requestId): \(refusal)")
            recordSecurityEvent(refusal.securityEventType ?? "InvalidFirmwareSigningCertificate", atUnixMs: now,
                                techInfo: String(refusal.description.prefix(255)))
            return SignedUpdateFirmwareResponse(status: .invalidCertificate)
        }
        let retrieveAt = OCPP16Timestamp.unixMs(request.firmware.retrieveDateTime) ?? now
        let installAt = request.firmware.installDateTime.flatMap(OCPP16Timestamp.unixMs)
        let f = request.firmware
        let outcome = await firmware.signedUpdate(requestId: request.requestId, location: f.location,
                                                  signingCertificate: f.signingCertificate, signature: f.signature,
                                                  retries: request.retries, retryInterval: request.retryInterval,
                                                  retrieveAtMs: retrieveAt, installAtMs: installAt)
        logger.notice("SignedUpdateFirmware \(request.requestId): \(outcome.rawValue)")
        return SignedUpdateFirmwareResponse(status: SignedUpdateFirmwareResponse.UpdateFirmwareStatusEnumType(rawValue: outcome.rawValue) ?? .rejected)
    }
}
