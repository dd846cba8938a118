import OCPP16Messages
import OCPPSecurity

/// GetInstalledCertificateIds (CSMS → charge point): the hash data of the installed roots of one kind.
extension OCPP16ChargePoint {
    func getInstalledCertificateIds(_ request: GetInstalledCertificateIdsRequest) -> GetInstalledCertificateIdsResponse {
        let type: CertificateUseType = request.certificateType == .centralSystemRootCertificate
            ? .centralSystemRootCertificate : .manufacturerRootCertificate
        guard let ids = try? security.certificates?.installedCertificateIds(of: type), !ids.isEmpty else {
            return GetInstalledCertificateIdsResponse(status: .notFound)
        }
        return GetInstalledCertificateIdsResponse(certificateHashData: ids.map(\.message), status: .accepted)
    }
}
