import SmallFiles
import Glibc
import HAL
import NIOCore
import NIOPosix
import Locking
import Synchronization
import Testing
@testable import OCPPTransport

final class TextInbox: Sendable {
    let texts = Mutex<[String]>([])
    var all: [String] { texts.locked { $0 } }
    var onText: @Sendable (String) -> Void { { [self] text in texts.locked { $0.append(text) } } }
}

/// The client against a real NIO WebSocket server on 127.0.0.1.
@Suite("OCPP WebSocket client", .serialized)
struct WebSocketClientTests {
    func connectError(_ client: OCPPWebSocketClient) async -> OCPPTransportError? {
        do throws(OCPPTransportError) {
            let session = try await client.connect { _ in }
            session.close()
            return nil
        } catch {
            return error
        }
    }

    @Test("URL + encoded identity, offered subprotocols, Basic auth bytes, text both ways")
    func acceptedSubprotocol() async throws {
        let csms = try await TestCSMS()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)/ocpp/", identity: "CP/1 ü"),
            subprotocols: ["ocpp2.0.1", "ocpp1.6"])
        configuration.basicAuth = OCPPBasicAuthCredentials(username: "CP/1 ü", password: "secret")
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        let inbox = TextInbox()
        let session = try await client.connect(onText: inbox.onText)
        #expect(session.subprotocol == "ocpp1.6")
        let request = try #require(csms.requests.first)
        #expect(request.uri == "/ocpp/CP%2F1%20%C3%BC")
        #expect(request.headers.first(name: "Sec-WebSocket-Protocol") == "ocpp2.0.1, ocpp1.6")
        // base64("CP/1 ü:secret") made independently.
        #expect(request.headers.first(name: "Authorization") == "Basic Q1AvMSDDvDpzZWNyZXQ=")
        session.send(#"[2,"1","Heartbeat",{}]"#)
        try await eventually("echo received") { inbox.all == [#"[2,"1","Heartbeat",{}]"#] }
        #expect(csms.receivedTexts == [#"[2,"1","Heartbeat",{}]"#])
        session.close()
        #expect(await session.closeReason() == .closedLocally)
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("frames go out in the order of the send calls, from the loop and from other threads")
    func sendOrder() async throws {
        let csms = try await TestCSMS()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)/", identity: "CP1"), subprotocols: ["ocpp1.6"])
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        let session = try #require(try await client.connect { _ in } as? OCPPWebSocketSession)
        let loop = session.channel.eventLoop

        // Another thread hands "A" over while the loop is busy; the loop then sends "B" itself
        // (as it answers a CALL it has just read). "A" was first, so it goes out first.
        let aHandedOver = Mutex(false)
        loop.execute {
            while !aHandedOver.locked({ $0 }) { sched_yield() }
            session.send("B")
        }
        session.send("A")
        aHandedOver.locked { $0 = true }
        try await eventually("A and B at the server") { csms.receivedTexts.count >= 2 }
        #expect(csms.receivedTexts == ["A", "B"])

        // Four other threads and the loop at once: every frame arrives, each sender's in order.
        let perSender = 300
        for i in 0..<perSender { loop.execute { session.send("loop \(i)") } }
        await withTaskGroup(of: Void.self) { tasks in
            for sender in 0..<4 {
                tasks.addTask { for i in 0..<perSender { session.send("\(sender) \(i)") } }
            }
        }
        try await eventually("every frame at the server") { csms.receivedTexts.count >= 2 + 5 * perSender }
        let received = csms.receivedTexts.dropFirst(2)
        #expect(received.count == 5 * perSender)
        for sender in ["loop", "0", "1", "2", "3"] {
            let sequence = received.filter { $0.hasPrefix(sender + " ") }
            #expect(sequence == (0..<perSender).map { "\(sender) \($0)" })
        }
        session.close()
        #expect(await session.closeReason() == .closedLocally)
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("a subprotocol we did not offer, or none at all, is refused with a clear error",
          arguments: [("ocpp2.0.1" as String?), nil])
    func refusedSubprotocol(chosen: String?) async throws {
        var options = TestCSMS.Options()
        options.choose = { _ in chosen }
        let csms = try await TestCSMS(options)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)", identity: "CP1"),
            subprotocols: ["ocpp1.6"])
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        #expect(await connectError(client) == .subprotocolMismatch(offered: ["ocpp1.6"], chosen: chosen))
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("nobody listening: connectFailed")
    func nobodyListening() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let csms = try await TestCSMS()
        let port = csms.port
        await csms.shutdown()
        let configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(port)", identity: "CP1"), subprotocols: ["ocpp1.6"])
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        guard case .connectFailed? = await connectError(client) else {
            Issue.record("expected connectFailed")
            return
        }
        try await group.shutdownGracefully()
    }

    @Test("a server that stops answering pings is dropped (pongTimeout) and reconnected")
    func pongTimeoutReconnects() async throws {
        var options = TestCSMS.Options()
        options.answerPings = false
        let csms = try await TestCSMS(options)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)", identity: "CP1"),
            subprotocols: ["ocpp1.6"])
        // Real sockets need real time; kept to tens of milliseconds.
        configuration.pingInterval = .milliseconds(30)
        configuration.pongTimeout = .milliseconds(60)
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        let connection = OCPPConnection(connector: client, backoff: ReconnectBackoff(minimum: .milliseconds(10),
                                        maximum: .milliseconds(10), randomRange: .zero),
                                        timerLoop: group.next(), logger: quietLogger)
        let log = EventLog()
        connection.start { log.append($0) }
        try await eventually("dropped for a missing pong, then connected again") {
            let events = log.all
            guard let drop = events.firstIndex(of: .disconnected(.pongTimeout)) else { return false }
            return events[drop...].contains(.connected(subprotocol: "ocpp1.6"))
        }
        #expect(log.all.first == .connected(subprotocol: "ocpp1.6"))
        #expect(csms.connectionCount >= 2)
        #expect(csms.pingsSeen.locked { $0 } >= 1)
        await connection.stop()
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("the 1.6 AuthorizationKey is hex and sent as its raw bytes")
    func hexAuthorizationKey() throws {
        let credentials = try OCPPBasicAuthCredentials(username: "CP001", hexAuthorizationKey: "0001ff41")
        #expect(credentials.password == [0x00, 0x01, 0xFF, 0x41])
        // base64("CP001:" + 00 01 FF 41), computed independently.
        #expect(credentials.authorizationHeaderValue == "Basic Q1AwMDE6AAH/QQ==")
        #expect(throws: OCPPTransportError.self) { try OCPPBasicAuthCredentials(username: "x", hexAuthorizationKey: "abc") }
        #expect(throws: OCPPTransportError.self) { try OCPPBasicAuthCredentials(username: "x", hexAuthorizationKey: "zz") }
    }

    @Test("endpoint parsing: schemes, ports, IPv6, bad URLs")
    func endpoints() throws {
        let a = try OCPPEndpoint(backendURL: "wss://csms.example.com/ocpp16", identity: "CP-1")
        #expect(a.isSecure && a.host == "csms.example.com" && a.port == 443 && a.path == "/ocpp16/CP-1")
        let b = try OCPPEndpoint(backendURL: "ws://[::1]:9000", identity: "a b")
        #expect(b.host == "::1" && b.port == 9000 && b.path == "/a%20b" && b.hostHeader == "[::1]:9000")
        #expect(throws: OCPPTransportError.self) { try OCPPEndpoint(backendURL: "http://x", identity: "a") }
        #expect(throws: OCPPTransportError.self) { try OCPPEndpoint(backendURL: "ws://x:99999", identity: "a") }
        #expect(throws: OCPPTransportError.self) { try OCPPEndpoint(backendURL: "ws://u:p@x", identity: "a") }
        #expect(throws: OCPPTransportError.self) { try OCPPEndpoint(backendURL: "ws://x", identity: "") }
    }

    @Test("security profiles check their pieces")
    func securityProfiles() throws {
        let tls = OCPPTLSSettings(trustedRoots: [.bytes([1])])
        let p1 = try OCPPWebSocketConfiguration.forSecurityProfile(
            .basicAuth, backendURL: "ws://h", identity: "CP1", subprotocols: ["ocpp1.6"], basicAuthPassword: [1, 2])
        #expect(p1.basicAuth?.username == "CP1" && p1.tls == nil)
        #expect(throws: OCPPTransportError.self) {
            try OCPPWebSocketConfiguration.forSecurityProfile(.tlsWithBasicAuth, backendURL: "ws://h", identity: "CP1",
                                                              subprotocols: ["ocpp1.6"], basicAuthPassword: [1], tls: tls)
        }
        #expect(throws: OCPPTransportError.self) {
            try OCPPWebSocketConfiguration.forSecurityProfile(.tlsWithBasicAuth, backendURL: "wss://h", identity: "CP1",
                                                              subprotocols: ["ocpp1.6"], basicAuthPassword: [1])
        }
        #expect(throws: OCPPTransportError.self) {
            try OCPPWebSocketConfiguration.forSecurityProfile(.tlsWithClientCertificate, backendURL: "wss://h",
                                                              identity: "CP1", subprotocols: ["ocpp1.6"], tls: tls)
        }
        let p3 = try OCPPWebSocketConfiguration.forSecurityProfile(
            .tlsWithClientCertificate, backendURL: "wss://h", identity: "CP1", subprotocols: ["ocpp1.6"],
            tls: OCPPTLSSettings(trustedRoots: [.bytes([1])], clientCertificateChain: [.bytes([2])],
                                 clientPrivateKey: .bytes([3])))
        #expect(p3.basicAuth == nil && p3.tls != nil)
    }

    @Test("a wrong AuthorizationKey: the CSMS answers 401 and the error says so")
    func unauthorized() async throws {
        var options = TestCSMS.Options()
        options.requiredAuthorization = "Basic Q1AwMDE6AAH/QQ=="
        let csms = try await TestCSMS(options)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)", identity: "CP001"),
            subprotocols: ["ocpp1.6"])
        configuration.basicAuth = try OCPPBasicAuthCredentials(username: "CP001", hexAuthorizationKey: "0001ff42")
        let wrong = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        #expect(await connectError(wrong) == .upgradeRejected(status: 401, reason: "Unauthorized"))
        configuration.basicAuth = try OCPPBasicAuthCredentials(username: "CP001", hexAuthorizationKey: "0001FF41")
        let right = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        #expect(await connectError(right) == nil)
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("a server that accepts TCP but never answers the upgrade: handshakeTimedOut")
    func handshakeTimeout() async throws {
        var options = TestCSMS.Options()
        options.silent = true
        let csms = try await TestCSMS(options)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)", identity: "CP1"),
            subprotocols: ["ocpp1.6"])
        configuration.connectTimeout = .milliseconds(100)
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        #expect(await connectError(client) == .handshakeTimedOut)
        try await group.shutdownGracefully()
        await csms.shutdown()
    }

    @Test("the frame log of a live RPC session records both directions")
    func frameLogOnSession() async throws {
        let csms = try await TestCSMS()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = OCPPWebSocketConfiguration(
            endpoint: try OCPPEndpoint(backendURL: "ws://127.0.0.1:\(csms.port)", identity: "CP1"),
            subprotocols: ["ocpp1.6"])
        let client = try OCPPWebSocketClient(configuration: configuration, group: group, logger: quietLogger)
        let connection = OCPPConnection(connector: client, backoff: ReconnectBackoff(), timerLoop: group.next(),
                                        logger: quietLogger)
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: group.next(), logger: quietLogger, handler: testHandler)
        let path = "/tmp/ocpp-frames-\(UInt64.random(in: 0...UInt64.max)).log"
        let frameLog = OCPPFrameLog(path: path)
        connection.start(rpc: rpc, frameLog: frameLog)
        // The echo server sends our CALL back: we answer it (NotImplemented) and the answer
        // comes back as an ignored CALLERROR.
        let call = Task { await callError(rpc, "ChangeConfiguration") }
        try await eventually("echoed CALL answered") { csms.receivedTexts.count >= 2 }
        call.cancel()
        await connection.stop()
        let text = String(decoding: SmallFile.bytes(path) ?? [], as: UTF8.self)
        #expect(text.contains(" >> [2,"))
        #expect(text.contains(" << [2,"))
        #expect(text.contains(" >> [4,"))
        unlink(path)
        try await group.shutdownGracefully()
        await csms.shutdown()
    }
}
