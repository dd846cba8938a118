import OCPP201Messages
import OCPPSecurity

/// CertificateSigned (A02/A03): the chain for the station's CSR, checked against the installed
/// CSMS roots and the pending key. Accepted: it is the station's certificate from the next
/// connection on (at once, by reconnecting, under security profile 3). Rejected: nothing
/// changes and the CSMS hears InvalidChargingStationCertificate. The station has no ISO 15118
/// stack, so a V2GCertificate is Rejected.
extension OCPP201ChargingStation {
    func certificateSigned(_ request: CertificateSignedRequest) -> CertificateSignedResponse {
        if request.certificateType == .v2gcertificate {
            return CertificateSignedResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("NotSupported", "no ISO 15118 certificate here"))
        }
        guard let pki else {
            return CertificateSignedResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("NoCertificateStore"))
        }
        let now = unixMs()
        do {
            let roots = try pki.certificates.certificates(of: .centralSystemRootCertificate)
            let chain = try pki.stationKeys.installSignedCertificate(chainPEM: request.certificateChain, trustedRoots: roots,
                                                                     at: Int64(now / 1000))
            logger.notice("CertificateSigned: new station certificate \(chain.first?.subject ?? "?") installed")
            stationCertificateRequests += 1  // the request it answers is done: no more repeats
            if securityProfile == 3, let reconnect = connectionHooks.reconnect {
                // After the answer has gone out, on a new connection with the new certificate.
                Task { await self.sleep(.seconds(Int64(1))); reconnect() }
            }
            return CertificateSignedResponse(status: .accepted)
        } catch {
            logger.warning("CertificateSigned rejected: \(error)")
            recordSecurityEvent(CertificateService.invalidChargingStationCertificate, atUnixMs: now, techInfo: String(describing: error))
            return CertificateSignedResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("InvalidCertificate", String(describing: error)))
        }
    }
}
