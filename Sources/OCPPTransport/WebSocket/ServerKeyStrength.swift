import NIOCore
import NIOSSL
import NIOTLS

/// The security whitepaper's floor for the CSMS's key: RSA (or DSA) of at least 2048 bits,
/// elliptic curves of at least 224. BoringSSL verifies the chain and the host name but takes a
/// 1024-bit RSA server key; this checks the leaf's key once the handshake is done and fails the
/// connection before any byte of OCPP crosses it.
final class ServerKeyStrengthCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let minimumRSABits = 2048
    static let minimumECBits = 224

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let leaf = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            if let problem = Self.problem(with: leaf) {
                context.fireErrorCaught(OCPPTransportError.tlsFailed(problem))
                context.close(promise: nil)
                return
            }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// nil when the key is strong enough.
    static func problem(with certificate: NIOSSLCertificate?) -> String? {
        guard let certificate, let spki = try? certificate.extractPublicKey().toSPKIBytes() else {
            return "the CSMS presented no certificate whose key can be read"
        }
        switch SubjectPublicKeyInfo.keyBits(spki) {
        case let .rsa(bits)? where bits < minimumRSABits:
            return "the CSMS's RSA key has \(bits) bits; at least \(minimumRSABits) are required"
        case let .ellipticCurve(bits)? where bits < minimumECBits:
            return "the CSMS's elliptic-curve key has \(bits) bits; at least \(minimumECBits) are required"
        case nil:
            return "the CSMS's public key is of a kind this station does not accept"
        default:
            return nil
        }
    }
}

/// Just enough DER to size a public key: SubjectPublicKeyInfo ::= SEQUENCE { algorithm
/// AlgorithmIdentifier, subjectPublicKey BIT STRING }.
enum SubjectPublicKeyInfo {
    enum Key: Equatable { case rsa(Int), ellipticCurve(Int) }

    static let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    static let ecPublicKey: [UInt8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]

    static func keyBits(_ der: [UInt8]) -> Key? {
        var outer = DERReader(der[...])
        guard var spki = outer.read(tag: 0x30).map(DERReader.init) else { return nil }
        guard var algorithm = spki.read(tag: 0x30).map(DERReader.init), let oid = algorithm.read(tag: 0x06),
              let bitString = spki.read(tag: 0x03), bitString.first == 0 else { return nil }
        let key = bitString.dropFirst()
        if Array(oid) == rsaEncryption {
            // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
            var rsa = DERReader(key)
            guard var fields = rsa.read(tag: 0x30).map(DERReader.init), let modulus = fields.read(tag: 0x02) else { return nil }
            let significant = modulus.drop(while: { $0 == 0 })
            guard let top = significant.first else { return nil }
            return .rsa((significant.count - 1) * 8 + (8 - top.leadingZeroBitCount))
        }
        if Array(oid) == ecPublicKey {
            // An uncompressed point: 0x04 || X || Y, each coordinate the curve's size.
            guard key.first == 0x04, key.count > 1 else { return nil }
            return .ellipticCurve((key.count - 1) / 2 * 8)
        }
        return nil
    }
}

/// Reads one DER element at a time; nil on anything malformed.
struct DERReader {
    var bytes: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func read(tag: UInt8) -> ArraySlice<UInt8>? {
        guard bytes.count >= 2, bytes.first == tag else { return nil }
        var index = bytes.startIndex + 1
        var length = Int(bytes[index])
        index += 1
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count >= 1, count <= 4, bytes.endIndex - index >= count else { return nil }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length >= 0, bytes.endIndex - index >= length else { return nil }
        let content = bytes[index..<index + length]
        bytes = bytes[(index + length)...]
        return content
    }
}
