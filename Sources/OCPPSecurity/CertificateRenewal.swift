/// When the station asks the CSMS for a new certificate of its own (SignCertificate), so that a
/// charger on security profile 3 never finds its TLS client certificate expired: 30 days before
/// it expires, time for a CSMS whose operator signs by hand; or, for a certificate that lives
/// less than 90 days, once two thirds of its life have passed, so a CSMS that issues short-lived
/// certificates is not asked again every day from the moment one is installed.
///
/// The adapters check at each registration (BootNotification Accepted) and then once a day
/// while registered; a CSMS that does not answer with CertificateSigned is asked again the next
/// day until the certificate is renewed.
public enum CertificateRenewal {
    public static let longestLeadSeconds: Int64 = 30 * 86_400
    public static let checkIntervalSeconds: Int64 = 86_400

    /// The Unix time from which `certificate` is due for renewal.
    public static func renewalStart(of certificate: X509Certificate) -> Int64 {
        let lifetime = max(0, certificate.notAfter - certificate.notBefore)
        return certificate.notAfter - min(longestLeadSeconds, lifetime / 3)
    }

    public static func isDue(_ certificate: X509Certificate, at unixSeconds: Int64) -> Bool {
        unixSeconds >= renewalStart(of: certificate)
    }
}

extension StationKeyStore {
    /// The station's client certificate in use (the leaf of the active chain); nil before the
    /// first CertificateSigned or when the file cannot be read.
    public func activeCertificate() -> X509Certificate? {
        guard let chain = try? loadCertificateChain(.active) else { return nil }
        return chain.first
    }
}
