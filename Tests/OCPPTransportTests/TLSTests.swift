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

    func serverContext(certificate: String, requireClientCertificateFrom clientRoot: String? = nil) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(path("\(certificate).pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: path("\(certificate).key"), format: .pem)))
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
