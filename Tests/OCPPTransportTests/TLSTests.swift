import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import OCPPTransport

/// Certificates made for the test run with the openssl CLI: a CSMS root and a server
/// certificate for localhost signed by it, an unrelated root, a server certificate for the
/// wrong host, and a client root with a charge point certificate.
struct TestPKI {
    let directory: String

    static func make() throws -> TestPKI {
        let directory = NSTemporaryDirectory() + "ocpp-tls-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
        set -e
        cd "\(directory)"
        ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.pem \
          -days 2 -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"; }
        leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.csr -subj "/CN=$3"
          printf "basicConstraints=CA:FALSE\\nextendedKeyUsage=$4\\n$5\\n" > $1.ext
          openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -out $1.pem -days 2 -extfile $1.ext; }
        ca root "Test CSMS Root"
        ca other "Unrelated Root"
        ca clientroot "Test Charge Point Root"
        leaf server root localhost serverAuth "subjectAltName=DNS:localhost"
        leaf wronghost root wrong.example serverAuth "subjectAltName=DNS:wrong.example"
        leaf client clientroot CP001 clientAuth ""
        # Refused although the chain and host are right: RSA under 2048 bits (the whitepaper's floor).
        openssl req -newkey rsa:1024 -nodes -keyout rsa1024.key -out rsa1024.csr -subj "/CN=localhost"
        printf "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n" > rsa.ext
        openssl x509 -req -in rsa1024.csr -CA root.pem -CAkey root.key -CAcreateserial -out rsa1024.pem -days 2 -extfile rsa.ext
        openssl req -newkey rsa:2048 -nodes -keyout rsa2048.key -out rsa2048.csr -subj "/CN=localhost"
        openssl x509 -req -in rsa2048.csr -CA root.pem -CAkey root.key -CAcreateserial -out rsa2048.pem -days 2 -extfile rsa.ext
        # Self-signed for the right host, not from the installed root.
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout selfsigned.key -out selfsigned.pem \
          -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" -addext "extendedKeyUsage=serverAuth"
        # Expired and not yet valid, signed by the right root (openssl ca sets the dates).
        mkdir ca && touch ca/index.txt && echo 01 > ca/serial
        printf "[ca]\ndefault_ca=d\n[d]\ndatabase=ca/index.txt\nserial=ca/serial\nnew_certs_dir=ca\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" > ca.cnf
        for dated in expired:20200101000000Z:20200201000000Z notyetvalid:20400101000000Z:20400201000000Z; do
          name=${dated%%:*}; dates=${dated#*:}
          cp server.key $name.key
          openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in server.csr -out $name.pem \
            -startdate ${dates%%:*} -enddate ${dates#*:} -extfile server.ext
        done
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ConditionTimedOut(what: "openssl failed") }
        return TestPKI(directory: directory)
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func serverContext(certificate: String, requireClientCertificateFrom clientRoot: String? = nil,
                       versions: (TLSVersion, TLSVersion)? = nil, cipherSuites: String? = nil) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(path("\(certificate).pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: path("\(certificate).key"), format: .pem)))
        if let (lowest, highest) = versions {
            tls.minimumTLSVersion = lowest
            tls.maximumTLSVersion = highest
        }
        if let cipherSuites { tls.cipherSuites = cipherSuites }
        if let clientRoot {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(path("\(clientRoot).pem"))
        }
        return try NIOSSLContext(configuration: tls)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("OCPP WebSocket over TLS", .serialized)
struct TLSTests {
    func attempt(server: NIOSSLContext, client tls: OCPPTLSSettings) async throws -> Result<String, OCPPTransportError> {
        var options = TestCSMS.Options()
        options.tls = server
        let csms = try await TestCSMS(options)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { _ = group.shutdownGracefully { _ in } }
        var configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "wss://localhost:\(csms.port)", identity: "CP001"),
            subprotocols: ["ocpp1.6"], tls: tls)
        configuration.connectTimeout = .seconds(Int64(5))
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        let result: Result<String, OCPPTransportError>
        do throws(OCPPTransportError) {
            let session = try await client.connect { _ in }
            result = .success(session.subprotocol)
            session.close()
            _ = await session.closeReason()
        } catch {
            result = .failure(error)
        }
        await csms.shutdown()
        return result
    }

    @Test("profile 2: server certificate signed by the installed root, for the right host: connected")
    func trustedServer() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let result = try await attempt(server: try pki.serverContext(certificate: "server"),
                                       client: OCPPTLSSettings(trustedRoots: [.file(pki.path("root.pem"))]))
        #expect(try result.get() == "ocpp1.6")
    }

    @Test("root certificates can be given as PEM bytes")
    func rootAsBytes() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let pem = Array(try Data(contentsOf: URL(fileURLWithPath: pki.path("root.pem"))))
        let result = try await attempt(server: try pki.serverContext(certificate: "server"),
                                       client: OCPPTLSSettings(trustedRoots: [.bytes(pem)]))
        #expect(try result.get() == "ocpp1.6")
    }

    @Test("a server certificate from another root is refused")
    func wrongRoot() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let result = try await attempt(server: try pki.serverContext(certificate: "server"),
                                       client: OCPPTLSSettings(trustedRoots: [.file(pki.path("other.pem"))]))
        guard case .failure(.tlsFailed) = result else {
            Issue.record("expected a TLS failure, got \(result)")
            return
        }
    }

    @Test("a server certificate for another host name is refused")
    func wrongHost() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let result = try await attempt(server: try pki.serverContext(certificate: "wronghost"),
                                       client: OCPPTLSSettings(trustedRoots: [.file(pki.path("root.pem"))]))
        guard case .failure(.tlsFailed) = result else {
            Issue.record("expected a TLS failure, got \(result)")
            return
        }
    }

    /// The TLS negatives of the security whitepaper: each refused before any OCPP byte crosses.
    @Test("refused: expired, not yet valid, self-signed, RSA under 2048 bits, TLS 1.0/1.1 only, CBC suites only",
          arguments: ["expired", "notyetvalid", "selfsigned", "rsa1024", "tls11", "tls10", "cbc"])
    func whitepaperNegatives(_ scenario: String) async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let server: NIOSSLContext
        switch scenario {
        case "tls11": server = try pki.serverContext(certificate: "server", versions: (.tlsv11, .tlsv11))
        case "tls10": server = try pki.serverContext(certificate: "server", versions: (.tlsv1, .tlsv1))
        case "cbc": server = try pki.serverContext(certificate: "server", versions: (.tlsv12, .tlsv12),
                                                   cipherSuites: "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA")
        default: server = try pki.serverContext(certificate: scenario)
        }
        let result = try await attempt(server: server, client: OCPPTLSSettings(trustedRoots: [.file(pki.path("root.pem"))]))
        guard case let .failure(.tlsFailed(reason)) = result else {
            Issue.record("\(scenario): expected a TLS failure, got \(result)")
            return
        }
        if scenario == "rsa1024" { #expect(reason.contains("1024 bits"), "\(reason)") }
    }

    @Test("accepted: RSA 2048, and TLS 1.2 with a whitepaper suite")
    func whitepaperPositives() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let roots = OCPPTLSSettings(trustedRoots: [.file(pki.path("root.pem"))])
        #expect(try await attempt(server: try pki.serverContext(certificate: "rsa2048"), client: roots).get() == "ocpp1.6")
        let tls12 = try pki.serverContext(certificate: "server", versions: (.tlsv12, .tlsv12),
                                          cipherSuites: "ECDHE-ECDSA-AES128-GCM-SHA256")
        #expect(try await attempt(server: tls12, client: roots).get() == "ocpp1.6")
    }

    @Test("a public key's size from its SubjectPublicKeyInfo")
    func keySizes() {
        func bytes(_ hex: String) -> [UInt8] {
            stride(from: 0, to: hex.count, by: 2).map { i in
                UInt8(hex[hex.index(hex.startIndex, offsetBy: i)..<hex.index(hex.startIndex, offsetBy: i + 2)], radix: 16) ?? 0
            }
        }
        #expect(SubjectPublicKeyInfo.keyBits(bytes(Self.rsa1024)) == .rsa(1024))
        #expect(SubjectPublicKeyInfo.keyBits(bytes(Self.p256)) == .ellipticCurve(256))
        #expect(SubjectPublicKeyInfo.keyBits(bytes(Self.p192)) == .ellipticCurve(192))
        #expect(SubjectPublicKeyInfo.keyBits([0x30, 0x82, 0xFF]) == nil, "truncated")
        #expect(SubjectPublicKeyInfo.keyBits([]) == nil)
    }

    static let rsa1024 = "30819f300d06092a864886f70d010101050003818d0030818902818100bead34dafaecd27aaad570f8a9c42dc39d946d52f7fe70ffafd1f026a9dbb2bfa957d3f34ade958965b79d50ee38874b8ba9d960796f5204272f30242cd0641b969e1a1ebaabcd2d82399753cec105daae0f570189d9d745fe6b532bf7545ad6ed142c35c6f4d131bc0cea1ded5900d0541d3529d4d7b10d33c6b700c486d9070203010001"
    static let p256 = "3059301306072a8648ce3d020106082a8648ce3d0301070342000444a0c74af606ed5915c7cb03b2217e8c6fa64b927d7a60ad6b512161c9606fc8e07329ad3997451533dcfd84d14fdef93dc2d55c7c3c6a14b2bb824e75fd0e64"
    static let p192 = "3049301306072a8648ce3d020106082a8648ce3d030101033200042d8982576afe9e5d5608fe58d942f03fdfef99c276b5046610283c08ded7b258a7fd4f3c133a00180def33c11406118f"

    @Test("profile 3: a server that requires a client certificate accepts ours")
    func mutualTLS() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let server = try pki.serverContext(certificate: "server", requireClientCertificateFrom: "clientroot")
        let result = try await attempt(server: server, client: OCPPTLSSettings(
            trustedRoots: [.file(pki.path("root.pem"))], clientCertificateChain: [.file(pki.path("client.pem"))],
            clientPrivateKey: .file(pki.path("client.key"))))
        #expect(try result.get() == "ocpp1.6")
    }

    @Test("profile 3: without a client certificate the server refuses us")
    func mutualTLSWithoutCertificate() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let server = try pki.serverContext(certificate: "server", requireClientCertificateFrom: "clientroot")
        let result = try await attempt(server: server, client: OCPPTLSSettings(trustedRoots: [.file(pki.path("root.pem"))]))
        guard case .failure = result else {
            Issue.record("connected without a client certificate")
            return
        }
    }

    @Test("unreadable certificates and keys are reported when the client is made")
    func badCertificates() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { _ = group.shutdownGracefully { _ in } }
        func make(_ tls: OCPPTLSSettings?) throws {
            _ = try OCPPWebSocketClient(configuration: OCPPWebSocketConfiguration(
                endpoint: try OCPPEndpoint(backendURL: "wss://h", identity: "CP1"), subprotocols: ["ocpp1.6"], tls: tls),
                group: group)
        }
        #expect(throws: OCPPTransportError.invalidConfiguration("wss:// needs TLS settings with the CSMS root certificate(s)")) {
            try make(nil)
        }
        #expect(throws: OCPPTransportError.self) { try make(OCPPTLSSettings(trustedRoots: [.file("/nonexistent.pem")])) }
        #expect(throws: OCPPTransportError.self) { try make(OCPPTLSSettings(trustedRoots: [.bytes(Array("junk".utf8))])) }
        #expect(throws: OCPPTransportError.self) { try make(OCPPTLSSettings(trustedRoots: [])) }
    }
}
