/// OCPP's CertificateHashDataType (GetInstalledCertificateIds, DeleteCertificate).
public struct CertificateHashData: Sendable, Hashable, CustomStringConvertible {
    public enum HashAlgorithm: String, Sendable, CaseIterable {
        case sha256 = "SHA256"
        case sha384 = "SHA384"
        case sha512 = "SHA512"
    }

    public var hashAlgorithm: HashAlgorithm
    /// Hex of the hash over the DER-encoded issuer name.
    public var issuerNameHash: String
    /// Hex of the hash over the issuer's public key bits.
    public var issuerKeyHash: String
    /// Hex serial number without "0x" and leading zeros.
    public var serialNumber: String

    public init(hashAlgorithm: HashAlgorithm, issuerNameHash: String, issuerKeyHash: String, serialNumber: String) {
        self.hashAlgorithm = hashAlgorithm
        self.issuerNameHash = issuerNameHash
        self.issuerKeyHash = issuerKeyHash
        self.serialNumber = serialNumber
    }

    /// Backends differ in hex case and some keep leading zeros in the serial; the identity is
    /// the same certificate either way.
    public func identifiesSameCertificate(as other: CertificateHashData) -> Bool {
        hashAlgorithm == other.hashAlgorithm
            && issuerNameHash.lowercased() == other.issuerNameHash.lowercased()
            && issuerKeyHash.lowercased() == other.issuerKeyHash.lowercased()
            && Self.normalizedSerial(serialNumber) == Self.normalizedSerial(other.serialNumber)
    }

    static func normalizedSerial(_ serial: String) -> String {
        var text = serial.lowercased()
        if text.hasPrefix("0x") { text.removeFirst(2) }
        while text.count > 1, text.hasPrefix("0") { text.removeFirst() }
        return text
    }

    public var description: String {
        "CertificateHashData(\(hashAlgorithm.rawValue), issuerNameHash: \(issuerNameHash), issuerKeyHash: \(issuerKeyHash), serialNumber: \(serialNumber))"
    }
}
