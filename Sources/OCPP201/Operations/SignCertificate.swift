import OCPP201DeviceModel
import OCPP201Messages
import OCPPSecurity

/// SignCertificate (A02/A03, station → CSMS): a new station key, pending until its certificate
/// comes back in CertificateSigned, and a CSR with CN = the station's serial number and
/// O = SecurityCtrlr.OrganizationName.
extension OCPP201ChargingStation {
    /// The CSR for a new ChargingStationCertificate; nil (logged) without a PKI or a serial number.
    func makeStationCertificateRequest() -> String? {
        guard let keys = pki?.stationKeys else {
            logger.warning("SignCertificate: no station key store configured")
            return nil
        }
        guard let serial = identity.serialNumber, !serial.isEmpty else {
            logger.warning("SignCertificate: the station has no serial number for the certificate's CN")
            return nil
        }
        let organization = deviceModel?.variables.organizationName ?? identity.vendor
        do {
            return try keys.makeSigningRequest(commonName: serial, organization: organization)
        } catch {
            logger.error("SignCertificate: cannot make the CSR: \(error)")
            return nil
        }
    }

    /// At registration and then daily: a SignCertificate once the station's certificate is due
    /// for renewal (`CertificateRenewal`, A02: the station initiates it before expiry), with the
    /// usual repeats while no CertificateSigned comes.
    func renewCertificateWhenDue() async {
        while !Task.isCancelled {
            if let certificate = pki?.stationKeys.activeCertificate(),
               CertificateRenewal.isDue(certificate, at: Int64(unixMs() / 1_000)) {
                logger.notice("the station certificate expires at \(certificate.notAfter) (Unix time): asking the CSMS for a new one")
                await requestStationCertificate()
            }
            await sleep(.seconds(CertificateRenewal.checkIntervalSeconds))
        }
    }

    /// Sends SignCertificate with a fresh CSR; true when the CSMS accepted it. Accepted but no
    /// CertificateSigned within SecurityCtrlr.CertSigningWaitMinimum: the same CSR again, the
    /// wait doubled each time, at most CertSigningRepeatTimes more times (A02.FR.17–19). A new
    /// request or a CertificateSigned ends the waiting.
    @discardableResult
    func requestStationCertificate() async -> Bool {
        guard mayInitiate, let csr = makeStationCertificateRequest() else { return false }
        stationCertificateRequests += 1
        let round = stationCertificateRequests
        let variables = deviceModel?.variables
        var wait = max(1, variables?.certSigningWaitMinimum ?? 60)
        let repeats = max(0, variables?.certSigningRepeatTimes ?? 3)
        var accepted = false
        for attempt in 0...repeats {
            guard round == stationCertificateRequests, mayInitiate else { break }
            do {
                let answer = try await send(SignCertificateRequest(csr: csr, certificateType: .chargingStationCertificate))
                logger.notice("SignCertificate (attempt \(attempt + 1)): \(answer.status.rawValue)")
                guard answer.status == .accepted else { break }
                accepted = true
            } catch {
                logger.warning("SignCertificate: \(error)")
            }
            guard attempt < repeats else { break }
            await sleep(.seconds(Int64(wait)))
            wait *= 2
        }
        return accepted
    }
}
