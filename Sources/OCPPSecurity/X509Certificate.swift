#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CCrypto

/// One parsed X.509 certificate (an owned X509*). The fields OCPP and the logs need are read
/// once at parse time, so a certificate that BoringSSL can parse but whose dates or serial are
/// unreadable is rejected up front.
public final class X509Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    // @unchecked: the X509 is never mutated after parsing; BoringSSL allows concurrent reads.
    let pointer: OpaquePointer

    /// RFC 2253 form, e.g. "CN=CP-0001,O=Example CPO".
    public let subject: String
    public let issuer: String
    public let subjectCommonName: String?
    /// Lower-case hex without leading zeros, as OCPP's CertificateHashData.serialNumber wants.
    public let serialNumber: String
    /// Validity period in Unix seconds (UTC).
    public let notBefore: Int64
    public let notAfter: Int64
    /// SHA-256 over the DER encoding, lower-case hex.
    public let sha256Fingerprint: String

    init(taking pointer: OpaquePointer) throws {
        self.pointer = pointer
        do {
            subject = try Self.nameString(X509_get_subject_name(pointer))
            issuer = try Self.nameString(X509_get_issuer_name(pointer))
            subjectCommonName = Self.commonName(X509_get_subject_name(pointer))
            serialNumber = try Self.serialHex(pointer)
            notBefore = try Self.unixTime(X509_get0_notBefore(pointer), field: "notBefore")
            notAfter = try Self.unixTime(X509_get0_notAfter(pointer), field: "notAfter")
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else { throw OpenSSLError.drain("X509_digest") }
            sha256Fingerprint = hexString(Array(digest[0..<Int(length)]))
        } catch {
            X509_free(pointer)
            throw error
        }
    }

    deinit { X509_free(pointer) }

    /// The first certificate in `pem`.
    public convenience init(pem: String) throws {
        ERR_clear_error()
        let bio = try MemoryBIO(bytes: Array(pem.utf8))
        guard let certificate = PEM_read_bio_X509(bio.pointer, nil, nil, nil) else {
            throw OpenSSLError.drain("PEM_read_bio_X509")
        }
        try self.init(taking: certificate)
    }

    public convenience init(der: [UInt8]) throws {
        ERR_clear_error()
        let parsed: (OpaquePointer?, Int) = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let certificate = d2i_X509(nil, &cursor, buffer.count)
            let consumed = cursor.flatMap { end in buffer.baseAddress.map { end - $0 } } ?? 0
            return (certificate, consumed)
        }
        guard let certificate = parsed.0 else { throw OpenSSLError.drain("d2i_X509") }
        guard parsed.1 == der.count else {
            X509_free(certificate)
            throw OpenSSLError(operation: "d2i_X509", details: ["\(der.count - parsed.1) bytes after the certificate"])
        }
        try self.init(taking: certificate)
    }

    /// Every certificate in a PEM bundle, in file order (for CertificateSigned: leaf first).
    /// Any block that does not parse fails the whole bundle: a half-read chain is never used.
    public static func chain(fromPEM pem: String) throws -> [X509Certificate] {
        ERR_clear_error()
        let expected = pem.split(separator: "-----BEGIN CERTIFICATE-----", omittingEmptySubsequences: false).count - 1
        guard expected > 0 else {
            throw OpenSSLError(operation: "read certificate chain", details: ["no PEM certificate found"])
        }
        let bio = try MemoryBIO(bytes: Array(pem.utf8))
        var certificates: [X509Certificate] = []
        while let certificate = PEM_read_bio_X509(bio.pointer, nil, nil, nil) {
            certificates.append(try X509Certificate(taking: certificate))
        }
        guard certificates.count == expected else {
            throw OpenSSLError.drain("PEM_read_bio_X509 (certificate \(certificates.count + 1) of \(expected))")
        }
        // The loop ends on "no start line"; that is the normal end of the bundle, not an error.
        ERR_clear_error()
        return certificates
    }

    public func derBytes() throws -> [UInt8] {
        ERR_clear_error()
        let length = i2d_X509(pointer, nil)
        guard length > 0 else { throw OpenSSLError.drain("i2d_X509") }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_X509(pointer, &cursor)
        }
        guard written == length else { throw OpenSSLError.drain("i2d_X509") }
        return bytes
    }

    public func pem() throws -> String {
        ERR_clear_error()
        let bio = try MemoryBIO()
        guard PEM_write_bio_X509(bio.pointer, pointer) == 1 else { throw OpenSSLError.drain("PEM_write_bio_X509") }
        return bio.contentsAsString()
    }

    /// basicConstraints CA:TRUE (or a v1 self-signed certificate, which BoringSSL also treats as a CA).
    public var isCertificateAuthority: Bool { X509_check_ca(pointer) > 0 }

    /// Issuer equals subject and the certificate's own key verifies its signature.
    public var isSelfSigned: Bool { swiftevse_x509_self_signed(pointer) == 1 }

    /// True if `issuerCertificate`'s key verifies this certificate's signature.
    public func isSigned(by issuerCertificate: X509Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuerCertificate.pointer) else { return false }
        let verified = X509_verify(pointer, key) == 1
        ERR_clear_error()
        return verified
    }

    public func isValid(at time: Int64) -> Bool { notBefore <= time && time <= notAfter }

    /// OCPP CertificateHashData (SHA-256): hash of the DER issuer name, hash of the issuer's
    /// public key bits (the subjectPublicKey BIT STRING value, as in an OCSP CertID) and the serial.
    /// `issuerCertificate` may be omitted for a self-issued (root) certificate.
    public func hashData(issuerCertificate: X509Certificate? = nil) throws -> CertificateHashData {
        ERR_clear_error()
        let keySource: X509Certificate
        if let issuerCertificate {
            keySource = issuerCertificate
        } else if subject == issuer {
            keySource = self
        } else {
            throw OpenSSLError(operation: "CertificateHashData", details: ["\(subject) is not self-issued; its issuer certificate is needed for issuerKeyHash"])
        }
        var nameDigest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var nameLength: UInt32 = 0
        guard X509_NAME_digest(X509_get_issuer_name(pointer), EVP_sha256(), &nameDigest, &nameLength) == 1 else {
            throw OpenSSLError.drain("X509_NAME_digest")
        }
        var keyDigest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var keyLength: UInt32 = 0
        guard X509_pubkey_digest(keySource.pointer, EVP_sha256(), &keyDigest, &keyLength) == 1 else {
            throw OpenSSLError.drain("X509_pubkey_digest")
        }
        return CertificateHashData(hashAlgorithm: .sha256,
                                   issuerNameHash: hexString(Array(nameDigest[0..<Int(nameLength)])),
                                   issuerKeyHash: hexString(Array(keyDigest[0..<Int(keyLength)])),
                                   serialNumber: serialNumber)
    }

    public var description: String { "X509Certificate(subject: \(subject), issuer: \(issuer), serial: \(serialNumber))" }

    public static func == (lhs: X509Certificate, rhs: X509Certificate) -> Bool {
        lhs.sha256Fingerprint == rhs.sha256Fingerprint
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(sha256Fingerprint) }

    // MARK: - Field readers

    private static func nameString(_ name: OpaquePointer?) throws -> String {
        guard let name else { throw OpenSSLError.drain("X509 name") }
        let bio = try MemoryBIO()
        guard X509_NAME_print_ex(bio.pointer, name, 0, swiftevse_name_flags_rfc2253()) >= 0 else {
            throw OpenSSLError.drain("X509_NAME_print_ex")
        }
        return bio.contentsAsString()
    }

    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else {
            ERR_clear_error()
            return nil
        }
        defer { swiftevse_openssl_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    private static func serialHex(_ certificate: OpaquePointer) throws -> String {
        guard let serial = X509_get0_serialNumber(certificate),
              let number = ASN1_INTEGER_to_BN(serial, nil) else { throw OpenSSLError.drain("ASN1_INTEGER_to_BN") }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { throw OpenSSLError.drain("BN_bn2hex") }
        defer { swiftevse_openssl_free(hex) }
        var text = String(cString: hex).lowercased()
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        while text.count > 1, text.hasPrefix("0") { text.removeFirst() }
        return negative ? "-" + text : text
    }

    private static func unixTime(_ time: UnsafePointer<ASN1_TIME>?, field: String) throws -> Int64 {
        var seconds: Int64 = 0
        guard let time, ASN1_TIME_to_posix(time, &seconds) == 1 else { throw OpenSSLError.drain("ASN1_TIME_to_posix(\(field))") }
        return seconds
    }
}
