import CCrypto

/// A field of a certificate signing request was rejected before any BoringSSL call.
public struct CertificateSigningRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "CSR \(field): \(reason)" }
}

/// The PKCS#10 request OCPP's SignCertificate carries: subject CN = charge point serial number,
/// O = CpoName (and C when configured), signed with the station key using SHA-256.
public enum CertificateSigningRequest {
    /// OCPP 1.6 security whitepaper: SignCertificate.req csr is string[0..5500].
    public static let maximumPEMLength = 5500

    public static func make(key: StationKey, commonName: String, organization: String,
                            country: String? = nil) throws -> String {
        try checkField("commonName", commonName, upperBound: 64)
        try checkField("organization", organization, upperBound: 64)
        if let country {
            guard country.utf8.count == 2, country.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
                throw CertificateSigningRequestError(field: "country", reason: "must be two upper-case letters (ISO 3166-1 alpha-2), got \(String(reflecting: country))")
            }
        }

        ERR_clear_error()
        guard let request = X509_REQ_new() else { throw OpenSSLError.drain("X509_REQ_new") }
        defer { X509_REQ_free(request) }
        guard X509_REQ_set_version(request, 0) == 1 else { throw OpenSSLError.drain("X509_REQ_set_version") }
        guard let subject = X509_REQ_get_subject_name(request) else { throw OpenSSLError.drain("X509_REQ_get_subject_name") }
        var entries: [(String, String)] = []
        if let country { entries.append(("C", country)) }
        entries.append(("O", organization))
        entries.append(("CN", commonName))
        for (field, value) in entries {
            let bytes = Array(value.utf8)
            let added = bytes.withUnsafeBufferPointer {
                X509_NAME_add_entry_by_txt(subject, field, swiftevse_mbstring_utf8(), $0.baseAddress, $0.count, -1, 0)
            }
            guard added == 1 else { throw OpenSSLError.drain("X509_NAME_add_entry_by_txt(\(field))") }
        }
        guard X509_REQ_set_pubkey(request, key.pointer) == 1 else { throw OpenSSLError.drain("X509_REQ_set_pubkey") }
        guard X509_REQ_sign(request, key.pointer, EVP_sha256()) > 0 else { throw OpenSSLError.drain("X509_REQ_sign") }

        let bio = try MemoryBIO()
        guard PEM_write_bio_X509_REQ(bio.pointer, request) == 1 else { throw OpenSSLError.drain("PEM_write_bio_X509_REQ") }
        let pem = bio.contentsAsString()
        guard pem.utf8.count <= maximumPEMLength else {
            throw CertificateSigningRequestError(field: "csr", reason: "PEM is \(pem.utf8.count) characters, OCPP allows \(maximumPEMLength)")
        }
        return pem
    }

    private static func checkField(_ name: String, _ value: String, upperBound: Int) throws {
        guard !value.isEmpty else { throw CertificateSigningRequestError(field: name, reason: "is empty") }
        // RFC 5280 upper bounds (ub-common-name, ub-organization-name) are 64 characters.
        guard value.count <= upperBound else {
            throw CertificateSigningRequestError(field: name, reason: "is \(value.count) characters, at most \(upperBound) allowed")
        }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw CertificateSigningRequestError(field: name, reason: "contains control characters")
        }
    }
}
