import OCPP16Messages
import OCPPSecurity

/// DeleteCertificate (CSMS → charge point): removes an installed root by its hash data. The
/// last CentralSystemRootCertificate is kept while a TLS profile depends on it (Failed).
extension OCPP16ChargePoint {
    func deleteCertificate(_ request: DeleteCertificateRequest) -> DeleteCertificateResponse {
        guard let store = security.certificates else { return DeleteCertificateResponse(status: .failed) }
        let wanted = CertificateHashData(request.certificateHashData)
        do {
            switch try store.delete(wanted, centralSystemRootInUse: security.profile.rawValue >= 2) {
            case .accepted: return DeleteCertificateResponse(status: .accepted)
            case .notFound: return DeleteCertificateResponse(status: .notFound)
            case .lastCentralSystemRootInUse:
                logger.warning("DeleteCertificate: the only CentralSystemRootCertificate is in use by security profile \(security.profile.rawValue)")
                return DeleteCertificateResponse(status: .failed)
            }
        } catch {
            logger.error("DeleteCertificate: \(error)")
            return DeleteCertificateResponse(status: .failed)
        }
    }
}

extension CertificateHashData {
    init(_ message: CertificateHashDataType) {
        self.init(hashAlgorithm: HashAlgorithm(rawValue: message.hashAlgorithm.rawValue) ?? .sha256,
                  issuerNameHash: message.issuerNameHash, issuerKeyHash: message.issuerKeyHash,
                  serialNumber: message.serialNumber)
    }

    var message: CertificateHashDataType {
        CertificateHashDataType(hashAlgorithm: HashAlgorithmEnumType(rawValue: hashAlgorithm.rawValue) ?? .sha256,
                                issuerNameHash: issuerNameHash, issuerKeyHash: issuerKeyHash, serialNumber: serialNumber)
    }
}
