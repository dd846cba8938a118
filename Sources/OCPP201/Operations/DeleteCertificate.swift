import OCPP201Messages
import OCPPSecurity

/// DeleteCertificate (M04): removes an installed root by its hash data. The only CSMS root is
/// kept (Failed) while the connection's TLS (security profile 2 or 3) depends on it; the
/// station's own certificate is not in the root store, so it can never be deleted this way.
extension OCPP201ChargingStation {
    func deleteCertificate(_ request: DeleteCertificateRequest) -> DeleteCertificateResponse {
        guard let store = pki?.certificates else {
            return DeleteCertificateResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("NoCertificateStore"))
        }
        do {
            switch try store.delete(CertificateHashData(ocpp201: request.certificateHashData),
                                    centralSystemRootInUse: securityProfile >= 2) {
            case .accepted:
                reportCertificateEntries()
                return DeleteCertificateResponse(status: .accepted)
            case .notFound:
                return DeleteCertificateResponse(status: .notFound)
            case .lastCentralSystemRootInUse:
                logger.warning("DeleteCertificate: the only CSMSRootCertificate is in use by security profile \(securityProfile)")
                return DeleteCertificateResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo(
                    "CertificateInUse", "the only CSMS root certificate, in use by security profile \(securityProfile)"))
            }
        } catch {
            logger.error("DeleteCertificate: \(error)")
            return DeleteCertificateResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("InternalError", "\(error)"))
        }
    }
}
