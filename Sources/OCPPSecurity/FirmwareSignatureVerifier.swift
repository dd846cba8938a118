#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CCrypto
import Codecs

/// Why a SignedUpdateFirmware image was refused.
public enum FirmwareVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The signing certificate does not parse or does not chain to an installed ManufacturerRootCertificate.
    case invalidCertificate(String)
    /// The signature is not base64, or does not verify over the file with the certificate's key.
    case invalidSignature(String)
    /// The downloaded file cannot be read.
    case unreadableFile(SecurityFileError)

    /// The status to report: "InvalidCertificate" is the SignedUpdateFirmware.conf status (the
    /// certificate is checked on receipt, see `validateSigningCertificate`); the others are
    /// SignedFirmwareStatusNotification statuses after the download.
    public var signedFirmwareStatus: String {
        switch self {
        case .invalidCertificate: return "InvalidCertificate"
        case .invalidSignature: return "InvalidSignature"
        case .unreadableFile: return "InstallVerificationFailed"
        }
    }

    /// The whitepaper's SecurityEventNotification type for this refusal, if it has one.
    public var securityEventType: String? {
        switch self {
        case .invalidCertificate: return "InvalidFirmwareSigningCertificate"
        case .invalidSignature: return "InvalidFirmwareSignature"
        case .unreadableFile: return nil
        }
    }

    public var description: String {
        switch self {
        case .invalidCertificate(let detail): return "firmware signing certificate refused: \(detail)"
        case .invalidSignature(let detail): return "firmware signature refused: \(detail)"
        case .unreadableFile(let error): return "firmware file unreadable: \(error)"
        }
    }
}

/// SignedUpdateFirmware: the signing certificate must chain to an installed manufacturer root,
/// and the SHA-256 signature (RSA PKCS#1 v1.5 or DER ECDSA, base64 in the message) must verify
/// over the downloaded file, which is streamed so images larger than RAM still verify.
public struct FirmwareSignatureVerifier: Sendable {
    public let manufacturerRoots: [X509Certificate]
    public let chunkSize: Int

    public init(manufacturerRoots: [X509Certificate], chunkSize: Int = 64 * 1024) {
        self.manufacturerRoots = manufacturerRoots
        self.chunkSize = max(1, chunkSize)
    }

    public init(store: InstalledCertificateStore, chunkSize: Int = 64 * 1024) throws {
        self.init(manufacturerRoots: try store.certificates(of: .manufacturerRootCertificate), chunkSize: chunkSize)
    }

    /// The check made when SignedUpdateFirmware.req arrives, before downloading anything.
    /// `signingCertificatePEM` is the message's signingCertificate: the signing certificate,
    /// optionally followed by intermediates. Returns the signing certificate.
    @discardableResult
    public func validateSigningCertificate(_ signingCertificatePEM: String, at time: Int64) throws -> X509Certificate {
        let chain: [X509Certificate]
        do {
            chain = try X509Certificate.chain(fromPEM: signingCertificatePEM)
        } catch {
            throw FirmwareVerificationError.invalidCertificate(String(describing: error))
        }
        guard let signer = chain.first else { throw FirmwareVerificationError.invalidCertificate("no certificate") }
        if case .failure(let error) = CertificateChainValidator.validate(
            leaf: signer, intermediates: Array(chain.dropFirst()), roots: manufacturerRoots, at: time) {
            throw FirmwareVerificationError.invalidCertificate(error.description)
        }
        return signer
    }

    /// The check after the download: the certificate again (it may have expired meanwhile),
    /// then the signature over the file. Returns the verified signing certificate.
    @discardableResult
    public func verify(firmwareAt path: String, signatureBase64: String, signingCertificatePEM: String,
                       at time: Int64) throws -> X509Certificate {
        let signer = try validateSigningCertificate(signingCertificatePEM, at: time)
        let signature: [UInt8]
        do {
            signature = try Base64.decode(signatureBase64)
        } catch {
            throw FirmwareVerificationError.invalidSignature(String(describing: error))
        }
        guard !signature.isEmpty else { throw FirmwareVerificationError.invalidSignature("empty signature") }
        try verifySignature(signature, overFileAt: path, with: signer)
        return signer
    }

    private func verifySignature(_ signature: [UInt8], overFileAt path: String, with signer: X509Certificate) throws {
        ERR_clear_error()
        guard let key = X509_get0_pubkey(signer.pointer) else {
            throw FirmwareVerificationError.invalidCertificate(OpenSSLError.drain("X509_get0_pubkey").description)
        }
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw FirmwareVerificationError.invalidSignature(OpenSSLError.drain("EVP_DigestVerifyInit").description)
        }

        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FirmwareVerificationError.unreadableFile(.fromErrno("open", path)) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FirmwareVerificationError.unreadableFile(.fromErrno("read", path))
            }
            if count == 0 { break }
            let updated = buffer.withUnsafeBytes { EVP_DigestVerifyUpdate(context, $0.baseAddress, count) }
            guard updated == 1 else { throw OpenSSLError.drain("EVP_DigestVerifyUpdate") }
        }
        let verdict = signature.withUnsafeBufferPointer { EVP_DigestVerifyFinal(context, $0.baseAddress, $0.count) }
        guard verdict == 1 else {
            let detail = OpenSSLError.drain("EVP_DigestVerifyFinal")
            throw FirmwareVerificationError.invalidSignature(
                "signature does not match the file with the key of \(signer.subject)" + (detail.details.isEmpty ? "" : " (\(detail))"))
        }
    }
}
