import OCPP16Messages
import OCPPSecurity

/// InstallCertificate (CSMS → charge point, security whitepaper): a root certificate into the
/// InstalledCertificateStore; a certificate that does not qualify is Rejected, nothing stored.
extension OCPP16ChargePoint {
    func installCertificate(_ request: InstallCertificateRequest) -> InstallCertificateResponse {
        guard let store = security.certificates else { return InstallCertificateResponse(status: .failed) }
        let type: CertificateUseType = request.certificateType == .centralSystemRootCertificate
            ? .centralSystemRootCertificate : .manufacturerRootCertificate
        do {
            let hash = try store.install(pem: request.certificate, as: type, at: Int64(unixMs() / 1000))
            logger.notice("InstallCertificate: \(type.rawValue) \(hash.serialNumber) installed")
            return InstallCertificateResponse(status: .accepted)
        } catch let error as InstallCertificateError {
            logger.warning("\(error)")
            return InstallCertificateResponse(status: .rejected)
        } catch {
            logger.error("InstallCertificate: \(error)")
            return InstallCertificateResponse(status: .failed)
        }
    }
}
