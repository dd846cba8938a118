import FileTransfer
import FirmwareUpdate
import OCPP201Messages
import OCPPJSON
import OCPPSecurity

/// UpdateFirmware (L01): a signed image. The signing certificate must chain to an installed
/// ManufacturerRootCertificate (else InvalidCertificate and the security event
/// InvalidFirmwareSigningCertificate); an image without signature, an unusable location or an
/// installation already running is Rejected; one that replaces a running download or wait is
/// AcceptedCanceled. The shared firmware service does the rest.
extension OCPP201ChargingStation {
    func updateFirmware(_ request: UpdateFirmwareRequest) async -> UpdateFirmwareResponse {
        let f = request.firmware
        guard let firmware else {
            return UpdateFirmwareResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("NotSupported", "no firmware settings"))
        }
        guard let certificate = f.signingCertificate, let signature = f.signature, !certificate.isEmpty, !signature.isEmpty else {
            return UpdateFirmwareResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo(
                "SignatureRequired", "this station installs signed firmware only"))
        }
        do { _ = try FileTransferURL(f.location) } catch {
            logger.warning("UpdateFirmware \(request.requestId): \(error)")
            return UpdateFirmwareResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("InvalidURL", "\(error)"))
        }
        let now = unixMs()
        do {
            guard let store = pki?.certificates else {
                throw FirmwareVerificationError.invalidCertificate("no certificate store: no ManufacturerRootCertificate installed")
            }
            try FirmwareSignatureVerifier(store: store).validateSigningCertificate(certificate, at: Int64(now / 1_000))
        } catch {
            let refusal = error as? FirmwareVerificationError ?? .invalidCertificate("\(error)")
            logger.warning("UpdateFirmware \(request.requestId): \(refusal)")
            recordSecurityEvent(refusal.securityEventType ?? "InvalidFirmwareSigningCertificate", atUnixMs: now,
                                techInfo: String(refusal.description.prefix(255)))
            return UpdateFirmwareResponse(status: .invalidCertificate, statusInfo: OCPP201Terms.statusInfo("InvalidCertificate", refusal.description))
        }
        let retrieveAt = OCPPTimestamp.unixMs(f.retrieveDateTime) ?? now
        let installAt = f.installDateTime.flatMap(OCPPTimestamp.unixMs)
        let outcome = await firmware.signedUpdate(requestId: request.requestId, location: f.location, signingCertificate: certificate,
                                                  signature: signature, retries: request.retries, retryInterval: request.retryInterval,
                                                  retrieveAtMs: retrieveAt, installAtMs: installAt)
        logger.notice("UpdateFirmware \(request.requestId): \(outcome.rawValue)")
        switch outcome {
        case .accepted: return UpdateFirmwareResponse(status: .accepted)
        case .acceptedCanceled: return UpdateFirmwareResponse(status: .acceptedCanceled)
        case .rejected: return UpdateFirmwareResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("InstallationRunning"))
        }
    }
}
