import CCrypto

/// Why a chain was refused, in the terms an operator or the OCPP adapter acts on.
public struct ChainValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        case expired
        case notYetValid
        /// No installed root anchors the chain (unknown issuer, self-signed but not installed).
        case untrustedRoot
        /// A signature in the chain does not verify (tampered or wrongly issued certificate).
        case badSignature
        /// The host name or IP address does not match the certificate.
        case hostnameMismatch
        /// The certificate's key usage / extended key usage does not allow the requested purpose.
        case wrongPurpose
        /// An issuer in the chain is not allowed to issue certificates (no CA:TRUE, path length).
        case invalidIssuer
        /// Anything else BoringSSL refused; `detail` carries its text.
        case other
    }

    public let reason: Reason
    /// Position in the chain of the offending certificate: 0 = leaf.
    public let depth: Int
    /// Subject of the offending certificate, if BoringSSL named one.
    public let subject: String
    /// BoringSSL's own text for the failure (X509_verify_cert_error_string).
    public let detail: String
    /// X509_V_ERR_* code, for logs and interop debugging.
    public let openSSLCode: Int32

    public var description: String {
        "certificate chain refused (\(reason.rawValue)) at depth \(depth)\(subject.isEmpty ? "" : " [\(subject)]"): \(detail)"
    }
}

/// Builds and checks a chain with BoringSSL's X509_STORE at an explicit time: the station's
/// clock is passed in, so tests and boot-time checks (clock not yet synchronised) are explicit.
public enum CertificateChainValidator {
    public enum Purpose: Sendable, Equatable {
        /// No key usage constraint beyond what the chain itself states.
        case any
        /// The certificate authenticates a TLS client (the station's own certificate).
        case tlsClient
        /// The certificate authenticates a TLS server (the CSMS).
        case tlsServer
    }

    /// On success: the verified chain, leaf first, ending with the trusted root.
    public static func validate(leaf: X509Certificate, intermediates: [X509Certificate] = [],
                                roots: [X509Certificate], at time: Int64, purpose: Purpose = .any,
                                hostname: String? = nil) -> Result<[X509Certificate], ChainValidationError> {
        do {
            return try validateThrowing(leaf: leaf, intermediates: intermediates, roots: roots, at: time,
                                        purpose: purpose, hostname: hostname)
        } catch let error as ChainValidationError {
            return .failure(error)
        } catch {
            return .failure(ChainValidationError(reason: .other, depth: 0, subject: leaf.subject,
                                                 detail: String(describing: error), openSSLCode: -1))
        }
    }

    private static func validateThrowing(leaf: X509Certificate, intermediates: [X509Certificate],
                                         roots: [X509Certificate], at time: Int64, purpose: Purpose,
                                         hostname: String?) throws -> Result<[X509Certificate], ChainValidationError> {
        guard !roots.isEmpty else {
            return .failure(ChainValidationError(reason: .untrustedRoot, depth: 0, subject: leaf.subject,
                                                 detail: "no trusted root certificate installed",
                                                 openSSLCode: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
        }
        ERR_clear_error()
        guard let store = X509_STORE_new() else { throw OpenSSLError.drain("X509_STORE_new") }
        defer { X509_STORE_free(store) }
        for root in roots {
            // X509_STORE_add_cert takes its own reference.
            guard X509_STORE_add_cert(store, root.pointer) == 1 else { throw OpenSSLError.drain("X509_STORE_add_cert") }
        }
        guard let untrusted = swiftevse_x509_stack_new() else { throw OpenSSLError.drain("sk_X509_new_null") }
        defer { swiftevse_x509_stack_free_all(untrusted) }
        for certificate in intermediates {
            guard swiftevse_x509_stack_push_ref(untrusted, certificate.pointer) == 1 else {
                throw OpenSSLError.drain("sk_X509_push")
            }
        }
        guard let context = X509_STORE_CTX_new() else { throw OpenSSLError.drain("X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            throw OpenSSLError.drain("X509_STORE_CTX_init")
        }
        X509_STORE_CTX_set_time(context, 0, time_t(time))
        switch purpose {
        case .any:
            break
        case .tlsClient:
            guard X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT) == 1 else {
                throw OpenSSLError.drain("X509_STORE_CTX_set_purpose")
            }
        case .tlsServer:
            guard X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER) == 1 else {
                throw OpenSSLError.drain("X509_STORE_CTX_set_purpose")
            }
        }
        if let hostname {
            guard let parameters = X509_STORE_CTX_get0_param(context) else { throw OpenSSLError.drain("X509_STORE_CTX_get0_param") }
            // A CSMS reached by address (common on a depot LAN) is matched against IP SANs.
            if isIPAddressLiteral(hostname) {
                guard X509_VERIFY_PARAM_set1_ip_asc(parameters, hostname) == 1 else {
                    throw OpenSSLError.drain("X509_VERIFY_PARAM_set1_ip_asc(\(hostname))")
                }
            } else {
                guard X509_VERIFY_PARAM_set1_host(parameters, hostname, hostname.utf8.count) == 1 else {
                    throw OpenSSLError.drain("X509_VERIFY_PARAM_set1_host")
                }
            }
        }

        let verdict = X509_verify_cert(context)
        if verdict == 1 {
            guard let chain = X509_STORE_CTX_get0_chain(context) else { throw OpenSSLError.drain("X509_STORE_CTX_get0_chain") }
            var verified: [X509Certificate] = []
            for index in 0..<swiftevse_x509_stack_count(chain) {
                guard let certificate = swiftevse_x509_stack_get(chain, index), X509_up_ref(certificate) == 1 else {
                    throw OpenSSLError.drain("X509_up_ref")
                }
                verified.append(try X509Certificate(taking: certificate))
            }
            return .success(verified)
        }
        let code = X509_STORE_CTX_get_error(context)
        let depth = Int(X509_STORE_CTX_get_error_depth(context))
        var subject = ""
        if let current = X509_STORE_CTX_get_current_cert(context), X509_up_ref(current) == 1,
           let certificate = try? X509Certificate(taking: current) {
            subject = certificate.subject
        }
        let detail: String
        if verdict < 0 && code == X509_V_OK {
            detail = OpenSSLError.drain("X509_verify_cert").description
        } else {
            detail = String(cString: X509_verify_cert_error_string(Int(code)))
        }
        ERR_clear_error()
        return .failure(ChainValidationError(reason: reason(for: code), depth: depth, subject: subject,
                                             detail: detail, openSSLCode: code))
    }

    static func isIPAddressLiteral(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
        }
    }

    static func reason(for code: Int32) -> ChainValidationError.Reason {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CRL_HAS_EXPIRED:
            return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CRL_NOT_YET_VALID:
            return .notYetValid
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED, X509_V_ERR_CERT_REJECTED:
            return .untrustedRoot
        case X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
             X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            return .badSignature
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return .hostnameMismatch
        case X509_V_ERR_INVALID_PURPOSE:
            return .wrongPurpose
        case X509_V_ERR_INVALID_CA, X509_V_ERR_PATH_LENGTH_EXCEEDED, X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
            return .invalidIssuer
        default:
            return .other
        }
    }
}
