#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a key sits in the SignCertificate → CertificateSigned rotation.
public enum StationKeySlot: String, Sendable, CaseIterable {
    /// The key of the client certificate in use.
    case active
    /// Generated for a SignCertificate CSR; becomes active once CertificateSigned brings its certificate.
    case pending
    /// The key (and certificate) replaced by the last rotation, kept so the transport can fall back
    /// when the backend refuses the new certificate.
    case previous
}

/// Why CertificateSigned was refused; nothing on disk changed.
public enum CertificateSignedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The PEM did not parse as one or more certificates.
    case malformedChain(String)
    /// The chain does not lead to an installed CentralSystemRootCertificate, or is not valid now.
    case chainInvalid(ChainValidationError)
    /// The certificate's public key is not the key the station generated for the CSR.
    case keyMismatch
    /// No station key exists to match the certificate against.
    case noStationKey

    public var description: String {
        switch self {
        case .malformedChain(let detail): return "CertificateSigned: certificate chain does not parse: \(detail)"
        case .chainInvalid(let error): return "CertificateSigned: \(error)"
        case .keyMismatch: return "CertificateSigned: certificate public key does not match the station key"
        case .noStationKey: return "CertificateSigned: no station key to match the certificate against"
        }
    }
}

/// The station's private keys and its client certificate chain under one directory (mode 0700,
/// files 0600). Keys are only ever written and read here; they never leave as text except to
/// the key file, and `StationKey` prints redacted.
public struct StationKeyStore: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try SecurityFiles.ensureDirectory(directory, mode: 0o700)
        // Keys written by an earlier version, or copied in by hand, may carry the umask's mode.
        for name in try SecurityFiles.list(directory) {
            try SecurityFiles.restrict(directory + "/" + name, mode: 0o600)
        }
    }

    public func keyPath(_ slot: StationKeySlot = .active) -> String {
        switch slot {
        case .active: return directory + "/station-key.pem"
        case .pending: return directory + "/station-key.pending.pem"
        case .previous: return directory + "/station-key.previous.pem"
        }
    }

    /// PEM chain, client certificate first: what the TLS client presents in security profile 3.
    /// `.pending` has no certificate (CertificateSigned installs straight into `.active`).
    public func certificateChainPath(_ slot: StationKeySlot = .active) -> String {
        switch slot {
        case .active, .pending: return directory + "/station-certificate.pem"
        case .previous: return directory + "/station-certificate.previous.pem"
        }
    }

    public func hasKey(_ slot: StationKeySlot = .active) -> Bool { SecurityFiles.exists(keyPath(slot)) }

    /// Generates a new key and stores it in `slot`, replacing what was there.
    @discardableResult
    public func generateKey(_ algorithm: StationKeyAlgorithm = .ecP256, slot: StationKeySlot = .active) throws -> StationKey {
        let key = try StationKey.generate(algorithm)
        var pem = try key.privateKeyPEM()
        defer { wipe(&pem) }
        try SecurityFiles.writeAtomically(pem, to: keyPath(slot), mode: 0o600)
        return key
    }

    public func loadKey(_ slot: StationKeySlot = .active) throws -> StationKey {
        var pem = try SecurityFiles.readAll(keyPath(slot), limit: 64 * 1024)
        defer { wipe(&pem) }
        return try StationKey(privateKeyPEM: pem)
    }

    /// The active key, generated on first start.
    public func loadOrGenerateActiveKey(_ algorithm: StationKeyAlgorithm = .ecP256) throws -> StationKey {
        if hasKey(.active) { return try loadKey(.active) }
        return try generateKey(algorithm, slot: .active)
    }

    /// SignCertificate (both OCPP versions): a fresh key in `.pending`, which becomes active once
    /// CertificateSigned brings its certificate, and the PEM CSR for it with CN = `commonName`
    /// (the station's serial number) and O = `organization` (1.6 CpoName, 2.0.1
    /// SecurityCtrlr.OrganizationName).
    public func makeSigningRequest(commonName: String, organization: String) throws -> String {
        let key = try generateKey(slot: .pending)
        return try CertificateSigningRequest.make(key: key, commonName: commonName, organization: organization)
    }

    /// The installed client certificate chain (leaf first), or nil before the first CertificateSigned.
    public func loadCertificateChain(_ slot: StationKeySlot = .active) throws -> [X509Certificate]? {
        let path = certificateChainPath(slot)
        guard SecurityFiles.exists(path) else { return nil }
        let bytes = try SecurityFiles.readAll(path)
        return try X509Certificate.chain(fromPEM: String(decoding: bytes, as: UTF8.self))
    }

    /// CertificateSigned: `chainPEM` holds the new client certificate first, then its
    /// intermediates. It must chain to one of `trustedRoots` (the installed
    /// CentralSystemRootCertificates) at `time`, allow TLS client use, and carry the public key
    /// of the pending key (or of the active key when no CSR key is pending). On success the
    /// old key and chain move to `.previous`, the new ones become `.active`, and the verified
    /// chain is returned; on failure nothing changes.
    @discardableResult
    public func installSignedCertificate(chainPEM: String, trustedRoots: [X509Certificate], at time: Int64) throws -> [X509Certificate] {
        let chain: [X509Certificate]
        do {
            chain = try X509Certificate.chain(fromPEM: chainPEM)
        } catch {
            throw CertificateSignedError.malformedChain(String(describing: error))
        }
        guard let leaf = chain.first else { throw CertificateSignedError.malformedChain("empty chain") }
        switch CertificateChainValidator.validate(leaf: leaf, intermediates: Array(chain.dropFirst()),
                                                  roots: trustedRoots, at: time, purpose: .tlsClient) {
        case .success:
            break
        case .failure(let error):
            throw CertificateSignedError.chainInvalid(error)
        }
        let keySlot: StationKeySlot
        if hasKey(.pending) {
            keySlot = .pending
        } else if hasKey(.active) {
            keySlot = .active
        } else {
            throw CertificateSignedError.noStationKey
        }
        let key = try loadKey(keySlot)
        guard key.matches(leaf) else { throw CertificateSignedError.keyMismatch }

        // Stored as received (leaf first, intermediates after), which is what a TLS client sends.
        var bundle = ""
        for certificate in chain { bundle += try certificate.pem() }
        let staged = directory + "/station-certificate.staged.pem"
        try SecurityFiles.writeAtomically(Array(bundle.utf8), to: staged, mode: 0o600)
        if keySlot == .pending {
            if hasKey(.active) { try SecurityFiles.move(keyPath(.active), to: keyPath(.previous)) }
            if SecurityFiles.exists(certificateChainPath(.active)) {
                try SecurityFiles.move(certificateChainPath(.active), to: certificateChainPath(.previous))
            }
            try SecurityFiles.move(keyPath(.pending), to: keyPath(.active))
        } else if SecurityFiles.exists(certificateChainPath(.active)) {
            // Same key, new certificate: the previous pair is this key with the old certificate.
            var pem = try SecurityFiles.readAll(keyPath(.active), limit: 64 * 1024)
            defer { wipe(&pem) }
            try SecurityFiles.writeAtomically(pem, to: keyPath(.previous), mode: 0o600)
            try SecurityFiles.move(certificateChainPath(.active), to: certificateChainPath(.previous))
        }
        try SecurityFiles.move(staged, to: certificateChainPath(.active))
        return chain
    }

    private func wipe(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
