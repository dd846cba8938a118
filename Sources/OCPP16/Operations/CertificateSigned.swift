import OCPP16Messages
import OCPPSecurity

/// CertificateSigned (CSMS → charge point): the chain for our CSR, validated against the
/// installed CSMS roots and matched to the pending key, then used from the next reconnect on.
extension OCPP16ChargePoint {
    func certificateSigned(_ request: CertificateSignedRequest) -> CertificateSignedResponse {
        guard let keys = security.stationKeys, let store = security.certificates else {
            return CertificateSignedResponse(status: .rejected)
        }
        let now = unixMs()
        do {
            let roots = try store.certificates(of: .centralSystemRootCertificate)
            let chain = try keys.installSignedCertificate(chainPEM: request.certificateChain, trustedRoots: roots,
                                                          at: Int64(now / 1000))
            logger.notice("CertificateSigned: new client certificate \(chain.first?.subject ?? "?") installed")
            if let reconnect = security.onClientCertificateInstalled, security.profile == .tlsWithClientCertificate {
                Task { await self.sleep(.seconds(Int64(1))); reconnect() }
            }
            return CertificateSignedResponse(status: .accepted)
        } catch {
            logger.warning("CertificateSigned rejected: \(error)")
            recordSecurityEvent("InvalidChargePointCertificate", atUnixMs: now, techInfo: String(describing: error))
            return CertificateSignedResponse(status: .rejected)
        }
    }
}
