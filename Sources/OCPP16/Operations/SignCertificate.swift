import OCPP16Messages
import OCPPSecurity

/// SignCertificate (charge point → CSMS): a new station key (pending until its certificate
/// comes) and a CSR with CN = serial number, O = CpoName.
extension OCPP16ChargePoint {
    /// Makes the CSR; nil (and logged) when the station has no key store or no serial.
    func makeCertificateSigningRequest() -> String? {
        guard let keys = security.stationKeys else {
            logger.warning("SignCertificate: no station key store configured")
            return nil
        }
        let commonName = identity.serialNumber ?? ""
        guard !commonName.isEmpty else {
            logger.warning("SignCertificate: the charge point has no serial number for the CN")
            return nil
        }
        do {
            return try keys.makeSigningRequest(commonName: commonName, organization: security.cpoName)
        } catch {
            logger.error("SignCertificate: cannot make the CSR: \(error)")
            return nil
        }
    }

    /// Sends SignCertificate with a fresh CSR; true when the CSMS accepted it.
    @discardableResult
    func requestClientCertificate() async -> Bool {
        guard mayInitiate, let csr = makeCertificateSigningRequest() else { return false }
        do {
            let answer = try await send(SignCertificateRequest(csr: csr))
            logger.notice("SignCertificate: \(answer.status.rawValue)")
            return answer.status == .accepted
        } catch {
            logger.warning("SignCertificate: \(error)")
            return false
        }
    }
}
