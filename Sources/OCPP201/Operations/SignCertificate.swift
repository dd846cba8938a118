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

    /// Sends SignCertificate with a fresh CSR; true when the CSMS accepted it.
    @discardableResult
    func requestStationCertificate() async -> Bool {
        guard mayInitiate, let csr = makeStationCertificateRequest() else { return false }
        do {
            let answer = try await send(SignCertificateRequest(csr: csr, certificateType: .chargingStationCertificate))
            logger.notice("SignCertificate: \(answer.status.rawValue)")
            return answer.status == .accepted
        } catch {
            logger.warning("SignCertificate: \(error)")
            return false
        }
    }
}
