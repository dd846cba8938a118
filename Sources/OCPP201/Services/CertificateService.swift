import OCPP201DeviceModel
import OCPP201Messages
import OCPPSecurity

/// Where the station's PKI lives: the installed root certificates, the station's key and
/// client certificate, and the Basic-auth password the CSMS set. The same stores, in the same
/// places, as the 1.6 charge point's (OCPPSecurity), so a station that switches version keeps its
/// CSMS roots, its certificate and its password.
public struct OCPP201PKI: Sendable {
    public let certificates: InstalledCertificateStore
    public let stationKeys: StationKeyStore
    public let authorizationKeys: AuthorizationKeyStore

    public init(certificates: InstalledCertificateStore, stationKeys: StationKeyStore, authorizationKeys: AuthorizationKeyStore) {
        self.certificates = certificates
        self.stationKeys = stationKeys
        self.authorizationKeys = authorizationKeys
    }

    /// Under `<data-dir>`: roots in `certificates/`, the station key in `pki/`, the password in
    /// `authorization-key` (the 1.6 charge point's places).
    public init(dataDirectory: String) throws {
        self.init(certificates: try InstalledCertificateStore(directory: dataDirectory + "/certificates"),
                  stationKeys: try StationKeyStore(directory: dataDirectory + "/pki"),
                  authorizationKeys: try AuthorizationKeyStore(dataDirectory: dataDirectory))
    }
}

/// Functional block A's certificate management (use cases A02/A03 station certificate, M03–M05
/// root certificates) on the shared PKI: InstallCertificate, GetInstalledCertificateIds,
/// DeleteCertificate, CertificateSigned, and SignCertificate (sent by the station, also on
/// TriggerMessage SignChargingStationCertificate). Without a PKI (`OCPP201PKI` not given) they
/// answer Failed / Rejected / NotFound. SecurityCtrlr.CertificateEntries counts the installed roots.
enum CertificateService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(InstallCertificateRequest.self) { station, request in station.installCertificate(request) }
        registry.register(GetInstalledCertificateIdsRequest.self) { station, request in station.getInstalledCertificateIds(request) }
        registry.register(DeleteCertificateRequest.self) { station, request in station.deleteCertificate(request) }
        registry.register(CertificateSignedRequest.self) { station, request in station.certificateSigned(request) }
    }

    /// The security event of a CertificateSigned whose chain was refused (A02.FR.?, appendix).
    static let invalidChargingStationCertificate = "InvalidChargingStationCertificate"

    /// The store's kind for a 2.0.1 root type (CSMSRootCertificate is 1.6's CentralSystemRootCertificate).
    static func useType(_ type: InstallCertificateRequest.InstallCertificateUseEnumType) -> CertificateUseType {
        switch type {
        case .csmsRootCertificate: .centralSystemRootCertificate
        case .manufacturerRootCertificate: .manufacturerRootCertificate
        case .v2grootcertificate: .v2gRootCertificate
        case .moRootCertificate: .moRootCertificate
        }
    }

    /// nil for V2GCertificateChain: the station's own ISO 15118 certificate, which it does not have.
    static func useType(_ type: GetCertificateIdUseEnumType) -> CertificateUseType? {
        switch type {
        case .csmsRootCertificate: .centralSystemRootCertificate
        case .manufacturerRootCertificate: .manufacturerRootCertificate
        case .v2grootcertificate: .v2gRootCertificate
        case .moRootCertificate: .moRootCertificate
        case .v2gcertificatechain: nil
        }
    }
}

extension OCPP201ChargingStation {
    /// SecurityCtrlr.CertificateEntries: the installed roots now.
    func reportCertificateEntries() {
        guard let model = deviceModel, let count = try? pki?.certificates.count() else { return }
        model.setActual(.certificateEntries, String(count))
    }
}

extension CertificateHashData {
    /// The 2.0.1 message's hash data; an unknown algorithm cannot occur (the schema's enum is the store's).
    init(ocpp201 m: CertificateHashDataType) {
        self.init(hashAlgorithm: HashAlgorithm(rawValue: m.hashAlgorithm.rawValue) ?? .sha256,
                  issuerNameHash: m.issuerNameHash, issuerKeyHash: m.issuerKeyHash, serialNumber: m.serialNumber)
    }

    var ocpp201: CertificateHashDataType {
        CertificateHashDataType(hashAlgorithm: HashAlgorithmEnumType(rawValue: hashAlgorithm.rawValue) ?? .sha256,
                                issuerNameHash: issuerNameHash, issuerKeyHash: issuerKeyHash, serialNumber: serialNumber)
    }
}
