import OCPP201Messages
import OCPPSecurity

/// InstallCertificate (M05): a root certificate (CSMS, manufacturer, V2G or mobility operator)
/// into the installed store. One that does not qualify (not a CA, expired, bad self-signature,
/// store full) is Rejected with the reason; a store that cannot be written is Failed. Nothing
/// is stored unless Accepted.
extension OCPP201ChargingStation {
    func installCertificate(_ request: InstallCertificateRequest) -> InstallCertificateResponse {
        guard let store = pki?.certificates else {
            return InstallCertificateResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("NoCertificateStore"))
        }
        let type = CertificateService.useType(request.certificateType)
        do {
            let hash = try store.install(pem: request.certificate, as: type, at: Int64(unixMs() / 1000))
            logger.notice("InstallCertificate: \(request.certificateType.rawValue) \(hash.serialNumber) installed")
            reportCertificateEntries()
            return InstallCertificateResponse(status: .accepted)
        } catch let error as InstallCertificateError {
            logger.warning("\(error)")
            let reason = if case .storeFull = error { "CertificateStoreFull" } else { "InvalidCertificate" }
            return InstallCertificateResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo(reason, error.description))
        } catch {
            logger.error("InstallCertificate: \(error)")
            return InstallCertificateResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("InternalError", "\(error)"))
        }
    }
}
