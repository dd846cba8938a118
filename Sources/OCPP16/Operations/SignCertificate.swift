import HAL
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

    /// At registration and then daily: a SignCertificate once the station's certificate is due
    /// for renewal (`CertificateRenewal`), before it expires and TLS profile 3 stops working.
    func renewCertificateWhenDue() async {
        while !Task.isCancelled {
            if let certificate = security.stationKeys?.activeCertificate(),
               CertificateRenewal.isDue(certificate, at: Int64(unixMs() / 1_000)) {
                logger.notice("the station certificate expires at \(certificate.notAfter) (Unix time): asking the CSMS for a new one")
                await requestClientCertificate()
            }
            await sleep(.seconds(CertificateRenewal.checkIntervalSeconds))
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
