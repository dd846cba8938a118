import OCPP201Messages
import OCPPSecurity

/// GetInstalledCertificateIds (M03): the hash data of the installed roots of the requested
/// types (every type when none is named), NotFound when there is none. The station holds no
/// V2G certificate chain of its own, so that type never adds an entry.
extension OCPP201ChargingStation {
    func getInstalledCertificateIds(_ request: GetInstalledCertificateIdsRequest) -> GetInstalledCertificateIdsResponse {
        typealias Entry = GetInstalledCertificateIdsResponse.CertificateHashDataChainType
        var entries: [Entry] = []
        for type in request.certificateType ?? GetCertificateIdUseEnumType.allCases {
            guard let kind = CertificateService.useType(type), let store = pki?.certificates else { continue }
            do {
                entries += try store.installedCertificateIds(of: kind).map { Entry(certificateHashData: $0.ocpp201, certificateType: type) }
            } catch {
                logger.error("GetInstalledCertificateIds: \(type.rawValue): \(error)")
            }
        }
        guard !entries.isEmpty else { return GetInstalledCertificateIdsResponse(status: .notFound) }
        return GetInstalledCertificateIdsResponse(status: .accepted, certificateHashDataChain: entries)
    }
}
