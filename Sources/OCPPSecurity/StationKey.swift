import CCrypto

/// Which key pair the station generates for its client certificate.
public enum StationKeyAlgorithm: Sendable, Equatable {
    /// ECDSA on NIST P-256 (prime256v1): the default, small CSRs and fast TLS handshakes.
    case ecP256
    /// RSA with a modulus of `bits` (2048…4096) for backends that cannot handle EC client certificates.
    case rsa(bits: Int)

    public static let rsa2048 = StationKeyAlgorithm.rsa(bits: 2048)
}

/// The station's private key (an owned EVP_PKEY). Its text forms never contain key material,
/// so it is safe to interpolate into log messages by mistake.
public final class StationKey: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // @unchecked: the EVP_PKEY is never mutated after creation; BoringSSL allows concurrent
    // signing and public-key reads on one EVP_PKEY.
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    public static func generate(_ algorithm: StationKeyAlgorithm = .ecP256) throws -> StationKey {
        ERR_clear_error()
        let context: OpaquePointer?
        switch algorithm {
        case .ecP256:
            context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil)
        case .rsa(let bits):
            guard (2048...4096).contains(bits) else {
                throw OpenSSLError(operation: "generate RSA key", details: ["modulus of \(bits) bits is outside 2048…4096"])
            }
            context = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil)
        }
        guard let context else { throw OpenSSLError.drain("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw OpenSSLError.drain("EVP_PKEY_keygen_init") }
        switch algorithm {
        case .ecP256:
            guard EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1 else {
                throw OpenSSLError.drain("EVP_PKEY_CTX_set_ec_paramgen_curve_nid(P-256)")
            }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1 else {
                throw OpenSSLError.drain("EVP_PKEY_CTX_set_rsa_keygen_bits")
            }
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen(context, &key) == 1, let key else { throw OpenSSLError.drain("EVP_PKEY_keygen") }
        return StationKey(taking: key)
    }

    /// Parses an unencrypted PEM private key (PKCS#8 or the traditional EC/RSA forms).
    public convenience init(privateKeyPEM: [UInt8]) throws {
        ERR_clear_error()
        let bio = try MemoryBIO(bytes: privateKeyPEM, secure: true)
        guard let key = PEM_read_bio_PrivateKey(bio.pointer, nil, nil, nil) else {
            throw OpenSSLError.drain("PEM_read_bio_PrivateKey")
        }
        self.init(taking: key)
    }

    /// PKCS#8 PEM of the private key, only for writing the key file.
    func privateKeyPEM() throws -> [UInt8] {
        ERR_clear_error()
        let bio = try MemoryBIO(secure: true)
        guard PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw OpenSSLError.drain("PEM_write_bio_PrivateKey")
        }
        return bio.contents()
    }

    /// SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY").
    public func publicKeyPEM() throws -> String {
        ERR_clear_error()
        let bio = try MemoryBIO()
        guard PEM_write_bio_PUBKEY(bio.pointer, pointer) == 1 else { throw OpenSSLError.drain("PEM_write_bio_PUBKEY") }
        return bio.contentsAsString()
    }

    /// "EC prime256v1" or "RSA 2048"; what the key is, never what it contains.
    public var algorithmDescription: String {
        let bits = EVP_PKEY_bits(pointer)
        switch EVP_PKEY_id(pointer) {
        case EVP_PKEY_EC:
            if let name = swiftevse_ec_curve_short_name(pointer) { return "EC " + String(cString: name) }
            return "EC \(bits)"
        case EVP_PKEY_RSA:
            return "RSA \(bits)"
        case let other:
            return "key type \(other), \(bits) bits"
        }
    }

    /// True if `certificate` carries this key's public half (the CertificateSigned check).
    public func matches(_ certificate: X509Certificate) -> Bool {
        guard let publicKey = X509_get0_pubkey(certificate.pointer) else { return false }
        return EVP_PKEY_cmp(publicKey, pointer) == 1
    }

    public var description: String { "StationKey(\(algorithmDescription), private part redacted)" }
    public var debugDescription: String { description }
}
