/// The root certificate kinds a station keeps: the 1.6 security whitepaper's two
/// (CertificateUseEnumType), which OCPP 2.0.1 calls CSMSRootCertificate and
/// ManufacturerRootCertificate, and 2.0.1's ISO 15118 roots (V2G and mobility operator). The
/// raw value is the folder name: a CSMS root installed under 1.6 is the same file 2.0.1 uses.
public enum CertificateUseType: String, Sendable, CaseIterable {
    case centralSystemRootCertificate = "CentralSystemRootCertificate"
    case manufacturerRootCertificate = "ManufacturerRootCertificate"
    case v2gRootCertificate = "V2GRootCertificate"
    case moRootCertificate = "MORootCertificate"
}

/// Why InstallCertificate was refused (OCPP status Rejected); nothing was stored.
public enum InstallCertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case expired(notAfter: Int64)
    case notYetValid(notBefore: Int64)
    /// Not a CA certificate (basicConstraints CA:TRUE missing): it cannot anchor a chain.
    case notACertificateAuthority(subject: String)
    /// Self-issued, but its own key does not verify its signature.
    case badSignature(subject: String)
    /// CertificateStoreMaxLength reached.
    case storeFull(limit: Int)

    public var description: String {
        switch self {
        case .malformed(let detail): return "InstallCertificate: not a certificate: \(detail)"
        case .expired(let notAfter): return "InstallCertificate: certificate expired (notAfter \(notAfter))"
        case .notYetValid(let notBefore): return "InstallCertificate: certificate not yet valid (notBefore \(notBefore))"
        case .notACertificateAuthority(let subject): return "InstallCertificate: \(subject) is not a CA certificate"
        case .badSignature(let subject): return "InstallCertificate: self-signature of \(subject) does not verify"
        case .storeFull(let limit): return "InstallCertificate: certificate store full (\(limit) certificates)"
        }
    }
}

public enum DeleteCertificateOutcome: String, Sendable, Equatable {
    case accepted = "Accepted"
    case notFound = "NotFound"
    /// The certificate is the only CSMS root and the connection's TLS depends on it: deleting
    /// it would leave the station unable to reach its CSMS (OCPP status Failed). Nothing removed.
    case lastCentralSystemRootInUse = "Failed"
}

/// Installed root certificates, one PEM file per certificate under `<directory>/<use type>/`,
/// named by SHA-256 fingerprint so reinstalling the same certificate is a no-op.
public struct InstalledCertificateStore: Sendable {
    public let directory: String
    /// Over all types, as the CertificateStoreMaxLength configuration key counts (0 or less:
    /// every install is refused as storeFull).
    public let maximumCount: Int

    public init(directory: String, maximumCount: Int = 20) throws {
        self.directory = directory
        self.maximumCount = maximumCount
        try SecurityFiles.ensureDirectory(directory, mode: 0o700)
        for type in CertificateUseType.allCases {
            try SecurityFiles.ensureDirectory(folder(type), mode: 0o700)
        }
    }

    /// InstallCertificate. Returns the hash data of the stored certificate.
    @discardableResult
    public func install(pem: String, as type: CertificateUseType, at time: Int64) throws -> CertificateHashData {
        let certificate: X509Certificate
        do {
            certificate = try X509Certificate(pem: pem)
        } catch {
            throw InstallCertificateError.malformed(String(describing: error))
        }
        guard time >= certificate.notBefore else { throw InstallCertificateError.notYetValid(notBefore: certificate.notBefore) }
        guard time <= certificate.notAfter else { throw InstallCertificateError.expired(notAfter: certificate.notAfter) }
        guard certificate.isCertificateAuthority else {
            throw InstallCertificateError.notACertificateAuthority(subject: certificate.subject)
        }
        if certificate.subject == certificate.issuer, !certificate.isSigned(by: certificate) {
            throw InstallCertificateError.badSignature(subject: certificate.subject)
        }
        let path = filePath(certificate, type)
        if SecurityFiles.exists(path) { return try certificate.hashData() }
        guard try count() < maximumCount else { throw InstallCertificateError.storeFull(limit: maximumCount) }
        try SecurityFiles.writeAtomically(Array(try certificate.pem().utf8), to: path, mode: 0o600)
        return try certificate.hashData()
    }

    /// The installed certificates of `type`, in a stable order; unreadable files are skipped
    /// rather than blocking every TLS connection or firmware check.
    public func certificates(of type: CertificateUseType) throws -> [X509Certificate] {
        try SecurityFiles.list(folder(type)).filter { $0.hasSuffix(".pem") }.compactMap { name in
            guard let bytes = try? SecurityFiles.readAll(folder(type) + "/" + name) else { return nil }
            return try? X509Certificate(pem: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// GetInstalledCertificateIds for one type; empty means status NotFound.
    public func installedCertificateIds(of type: CertificateUseType) throws -> [CertificateHashData] {
        try certificates(of: type).map { try $0.hashData() }
    }

    /// DeleteCertificate: removes every installed certificate the hash data identifies.
    public func delete(_ hashData: CertificateHashData) throws -> DeleteCertificateOutcome {
        var removed = false
        for type in CertificateUseType.allCases {
            for certificate in try certificates(of: type) where try certificate.hashData().identifiesSameCertificate(as: hashData) {
                try SecurityFiles.remove(filePath(certificate, type))
                removed = true
            }
        }
        return removed ? .accepted : .notFound
    }

    /// DeleteCertificate as both OCPP versions answer it: while `centralSystemRootInUse` (a TLS
    /// security profile, 2 or 3, connects with the installed CSMS roots) the last of them is kept.
    public func delete(_ hashData: CertificateHashData, centralSystemRootInUse: Bool) throws -> DeleteCertificateOutcome {
        if centralSystemRootInUse {
            let roots = try installedCertificateIds(of: .centralSystemRootCertificate)
            if roots.count == 1, roots[0].identifiesSameCertificate(as: hashData) { return .lastCentralSystemRootInUse }
        }
        return try delete(hashData)
    }

    public func count() throws -> Int {
        try CertificateUseType.allCases.reduce(0) { total, type in
            total + (try SecurityFiles.list(folder(type)).filter { $0.hasSuffix(".pem") }.count)
        }
    }

    private func folder(_ type: CertificateUseType) -> String { directory + "/" + type.rawValue }

    private func filePath(_ certificate: X509Certificate, _ type: CertificateUseType) -> String {
        folder(type) + "/" + certificate.sha256Fingerprint + ".pem"
    }
}
