import SmallFiles
import HAL
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Locking
import Synchronization

/// One established connection to the CSMS.
public protocol OCPPTransportSession: Sendable {
    /// The subprotocol the server chose.
    var subprotocol: String { get }
    /// Queues one text message (fire and forget; a dead connection drops it). Messages go on
    /// the wire in the order `send` was called, from whichever threads: the RPC layer relies on
    /// it to keep an answer ahead of the messages it promised (`OCPPCallAnswer.afterReply`).
    func send(_ text: String)
    /// Closes with a close frame; `closeReason()` then answers `.closedLocally`.
    func close()
    /// Waits until the connection has ended and tells why.
    func closeReason() async -> OCPPDisconnectReason
}

/// Makes connections; `OCPPConnection` uses one to reconnect, tests substitute fakes.
public protocol OCPPConnector: Sendable {
    /// `onText` is called for every inbound text message, in order.
    func connect(onText: @escaping @Sendable (String) -> Void) async throws(OCPPTransportError) -> any OCPPTransportSession
}

/// The WebSocket connection of a live session.
///
/// `send` may be called from any thread; the frames go on the wire in the order of the calls.
/// Each call puts its frame in the outbox, under a lock, and the channel's loop writes the
/// outbox out in that order: at once when `send` was called on the loop (an answer to a CALL
/// the loop has just read), through one task on the loop's queue otherwise. A write made on
/// the loop without the outbox would overtake a frame another thread queued a moment earlier
/// (a CALL the RPC sends while reading an answer, ahead of the reply to a TriggerMessage); a
/// task for every frame, as before, cost a one-key GetConfiguration 2.5 % of its instructions.
public final class OCPPWebSocketSession: OCPPTransportSession {
    public let subprotocol: String
    let channel: any Channel
    let closed: EventLoopFuture<OCPPDisconnectReason>
    private let writer: NIOLoopBound<TextFrameWriter>

    private struct Outbox {
        var frames: [ByteBuffer] = []
        /// A task to write the outbox is on the loop's queue.
        var taskQueued = false
        /// The loop is writing frames now. A `send` made meanwhile on the loop (from a handler
        /// the write called) leaves its frame here for that pass, which writes it after the
        /// ones before it.
        var writing = false
    }
    private enum NextStep { case writeNow, writeOutbox, queueTask, nothing }
    private let outbox = Mutex(Outbox())

    init(subprotocol: String, channel: any Channel, writer: TextFrameWriter,
         closed: EventLoopFuture<OCPPDisconnectReason>) {
        self.subprotocol = subprotocol
        self.channel = channel
        self.writer = NIOLoopBound(writer, eventLoop: channel.eventLoop)
        self.closed = closed
    }

    public func send(_ text: String) {
        let frame = TextFrame.encode(text, maskKey: MaskingKeyPool.shared.next(), allocator: channel.allocator)
        let onLoop = channel.eventLoop.inEventLoop
        let next = outbox.locked { outbox -> NextStep in
            if onLoop && !outbox.writing && outbox.frames.isEmpty {
                outbox.writing = true
                return .writeNow
            }
            outbox.frames.append(frame)
            if onLoop { return .writeOutbox }
            if outbox.taskQueued { return .nothing }
            outbox.taskQueued = true
            return .queueTask
        }
        switch next {
        case .writeNow:
            writer.value.write(frame)
            writeOutbox(passStarted: true)
        case .writeOutbox:
            writeOutbox(passStarted: false)
        case .queueTask:
            channel.eventLoop.execute {
                self.outbox.locked { $0.taskQueued = false }
                self.writeOutbox(passStarted: false)
            }
        case .nothing:
            break
        }
    }

    /// On the loop: writes the outbox's frames, oldest first, and what arrives meanwhile, then
    /// flushes. Returns at once when a pass further up the stack is writing: that one takes them.
    private func writeOutbox(passStarted: Bool) {
        var ownsPass = passStarted
        while true {
            let frames = outbox.locked { outbox -> [ByteBuffer]? in
                if !ownsPass && outbox.writing { return nil }
                if outbox.frames.isEmpty {
                    if ownsPass { outbox.writing = false }
                    return nil
                }
                outbox.writing = true
                defer { outbox.frames = [] }
                return outbox.frames
            }
            guard let frames else { break }
            ownsPass = true
            for frame in frames { writer.value.write(frame) }
        }
        if ownsPass { writer.value.flush() }
    }

    public func close() {
        channel.pipeline.fireUserInboundEventTriggered(LocalCloseEvent())
    }

    public func closeReason() async -> OCPPDisconnectReason {
        do {
            return try await closed.get()
        } catch {
            return .connectionError("\(error)")
        }
    }
}

/// WebSocket client for OCPP-J on swift-nio: URL + identity, offered subprotocols checked
/// against the server's choice, HTTP Basic auth, TLS 1.2+ with checked server certificate
/// and host name, optional client certificate.
public struct OCPPWebSocketClient: OCPPConnector {
    public let configuration: OCPPWebSocketConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let sslContext: NIOSSLContext?
    /// When given, it decides the ping interval (over `configuration.pingInterval`), and a
    /// change applies to the live connection at once.
    private let livePingInterval: PingIntervalSetting?

    /// Loads the certificates now, so a bad file or key is reported here and not at connect.
    public init(configuration: OCPPWebSocketConfiguration, group: any EventLoopGroup,
                livePingInterval: PingIntervalSetting? = nil,
                logger: Logger = Logger(label: "ocpp.websocket")) throws(OCPPTransportError) {
        self.livePingInterval = livePingInterval
        guard !configuration.subprotocols.isEmpty else {
            throw .invalidConfiguration("no OCPP subprotocol to offer")
        }
        self.configuration = configuration
        self.group = group
        self.logger = logger
        if configuration.endpoint.isSecure {
            guard let tls = configuration.tls else {
                throw .invalidConfiguration("wss:// needs TLS settings with the CSMS root certificate(s)")
            }
            sslContext = try Self.makeSSLContext(tls)
        } else {
            sslContext = nil
        }
    }

    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    /// TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384 in OpenSSL's names.
    static let whitepaperCipherSuites =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384"

    static func makeSSLContext(_ settings: OCPPTLSSettings) throws(OCPPTransportError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // TLS 1.2: only the security whitepaper's suites (AES-GCM, ECDSA or RSA key exchange as
        // it lists them); a server that offers only CBC or other suites is refused. TLS 1.3's
        // suites are all AEAD and are not set by this list.
        tls.cipherSuites = Self.whitepaperCipherSuites
        tls.certificateVerification = .fullVerification
        do {
            if settings.trustedRoots.isEmpty {
                guard settings.useSystemTrustRoots else {
                    throw OCPPTransportError.invalidConfiguration("no CSMS root certificate installed")
                }
                tls.trustRoots = .default
            } else {
                var roots: [NIOSSLCertificate] = []
                for source in settings.trustedRoots { roots += try loadCertificates(source) }
                tls.trustRoots = .certificates(roots)
            }
            if !settings.clientCertificateChain.isEmpty {
                guard let keySource = settings.clientPrivateKey else {
                    throw OCPPTransportError.invalidConfiguration("client certificate without its private key")
                }
                var chain: [NIOSSLCertificate] = []
                for source in settings.clientCertificateChain { chain += try loadCertificates(source) }
                tls.certificateChain = chain.map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: try readPEM(keySource), format: .pem))
            }
            return try NIOSSLContext(configuration: tls)
        } catch let error as OCPPTransportError {
            throw error
        } catch {
            throw .invalidCertificate("\(error)")
        }
    }

    private static func loadCertificates(_ source: OCPPPEMSource) throws -> [NIOSSLCertificate] {
        let certificates = try NIOSSLCertificate.fromPEMBytes(try readPEM(source))
        guard !certificates.isEmpty else {
            throw OCPPTransportError.invalidCertificate("no PEM certificate in \(source.label)")
        }
        return certificates
    }

    private static func readPEM(_ source: OCPPPEMSource) throws -> [UInt8] {
        switch source {
        case .bytes(let bytes): return bytes
        case .file(let path):
            guard let bytes = SmallFile.bytes(path) else {
                throw OCPPTransportError.invalidCertificate("cannot read \(path)")
            }
            return bytes
        }
    }

    public func connect(onText: @escaping @Sendable (String) -> Void) async throws(OCPPTransportError)
        -> any OCPPTransportSession
    {
        let configuration = configuration
        let endpoint = configuration.endpoint
        let loop = group.next()
        let upgraded = loop.makePromise(of: OCPPWebSocketSession.self)
        let sslContext = sslContext
        let logger = logger

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        headers.add(name: "Sec-WebSocket-Protocol", value: configuration.subprotocols.joined(separator: ", "))
        if let basicAuth = configuration.basicAuth {
            headers.add(name: "Authorization", value: basicAuth.authorizationHeaderValue)
        }
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)

        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.microseconds(max(1, configuration.connectTimeout.microseconds)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        let sniHost = Self.isIPAddress(endpoint.host) ? nil : endpoint.host
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: sniHost)
                        try sync.addHandler(handler)
                        try sync.addHandler(ServerKeyStrengthCheck())
                    }
                    let requestHandler = UpgradeRequestHandler(head: head, upgraded: upgraded)
                    let closed = channel.eventLoop.makePromise(of: OCPPDisconnectReason.self)
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: max(1 << 14, min(configuration.maxMessageBytes, Int(UInt32.max))),
                        automaticErrorHandling: true
                    ) { channel, response in
                        let chosen = response.headers.first(name: "Sec-WebSocket-Protocol")?
                            .trimmingCharacters(in: " ")
                        guard let chosen, configuration.subprotocols.contains(chosen) else {
                            upgraded.fail(OCPPTransportError.subprotocolMismatch(
                                offered: configuration.subprotocols, chosen: chosen))
                            return channel.close()
                        }
                        let frameHandler = OCPPWebSocketFrameHandler(
                            maxMessageBytes: configuration.maxMessageBytes,
                            pingInterval: configuration.pingInterval, livePingInterval: livePingInterval,
                            pongTimeout: configuration.pongTimeout,
                            closed: closed, onText: onText)
                        return channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(frameHandler)
                            let writer = TextFrameWriter()
                            try sync.addHandler(writer, position: .before(sync.handler(type: WebSocketFrameEncoder.self)))
                            upgraded.succeed(OCPPWebSocketSession(subprotocol: chosen, channel: channel, writer: writer,
                                                                  closed: closed.futureResult))
                        }
                    }
                    let upgradeConfiguration: NIOHTTPClientUpgradeConfiguration = (
                        upgraders: [upgrader],
                        completionHandler: { context in
                            context.channel.pipeline.removeHandler(name: UpgradeRequestHandler.name, promise: nil)
                        }
                    )
                    try sync.addHTTPClientHandlers(withClientUpgrade: upgradeConfiguration)
                    try sync.addHandler(requestHandler, name: UpgradeRequestHandler.name)
                    channel.closeFuture.whenComplete { _ in
                        upgraded.fail(OCPPTransportError.closedDuringHandshake)
                        closed.succeed(.connectionError("connection closed"))
                    }
                }
            }

        let channel: any Channel
        do {
            // An IP address needs no lookup. swift-nio's resolver runs getaddrinfo on a
            // libdispatch worker, which adds a thread to the daemon for a few seconds after
            // every connection attempt: only a host name goes through it.
            if let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) {
                channel = try await bootstrap.connect(to: address).get()
            } else {
                channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            }
        } catch {
            throw .connectFailed("\(endpoint.hostHeader): \(error)")
        }
        let deadline = loop.scheduleTask(in: .microseconds(max(1, configuration.connectTimeout.microseconds))) {
            upgraded.fail(OCPPTransportError.handshakeTimedOut)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            let session = try await upgraded.futureResult.get()
            logger.info("connected", metadata: ["url": "\(endpoint)", "subprotocol": "\(session.subprotocol)"])
            return session
        } catch let error as OCPPTransportError {
            channel.close(promise: nil)
            throw error
        } catch {
            channel.close(promise: nil)
            throw .connectFailed("\(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

extension OCPPPEMSource {
    var label: String {
        switch self {
        case .file(let path): return path
        case .bytes: return "PEM bytes"
        }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var slice = Substring(self)
        while slice.first == set { slice = slice.dropFirst() }
        while slice.last == set { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Sends the upgrade request once the channel is up, and turns any non-upgrade outcome into a
/// clear error (HTTP status, TLS failure, early close).
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "ocpp-upgrade-request"

    private let head: HTTPRequestHead
    private let upgraded: EventLoopPromise<OCPPWebSocketSession>
    private var pendingError: (any Error)?

    init(head: HTTPRequestHead, upgraded: EventLoopPromise<OCPPWebSocketSession>) {
        self.head = head
        self.upgraded = upgraded
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let response) = unwrapInboundIn(data) {
            upgraded.fail(OCPPTransportError.upgradeRejected(status: Int(response.status.code),
                                                             reason: response.status.reasonPhrase))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOHTTPClientUpgradeError {
            // The response head follows and names the refusal better.
            pendingError = error
            return
        }
        if let transportError = error as? OCPPTransportError, case .tlsFailed = transportError {
            upgraded.fail(transportError)
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            upgraded.fail(OCPPTransportError.tlsFailed("\(error)"))
        } else {
            upgraded.fail(OCPPTransportError.connectFailed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let pendingError {
            upgraded.fail(OCPPTransportError.connectFailed("\(pendingError)"))
        }
        upgraded.fail(OCPPTransportError.closedDuringHandshake)
        context.fireChannelInactive()
    }
}
