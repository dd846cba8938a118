import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Locking
import Synchronization

/// A minimal WebSocket server on 127.0.0.1 standing in for a CSMS: records the upgrade
/// requests, picks (or omits) a subprotocol, echoes text messages, answers pings if told to.
final class TestCSMS: Sendable {
    struct Options: Sendable {
        var choose: @Sendable ([String]) -> String? = { $0.last }
        var answerPings = true
        var tls: NIOSSLContext? = nil
        /// When set, an upgrade request without exactly this Authorization header gets 401.
        var requiredAuthorization: String? = nil
        /// Accept TCP and never answer (handshake timeout).
        var silent = false
    }

    let group: MultiThreadedEventLoopGroup
    private let serverChannel = Mutex<(any Channel)?>(nil)
    let upgradeRequests = Mutex<[HTTPRequestHead]>([])
    let received = Mutex<[String]>([])
    let pingsSeen = Mutex<Int>(0)
    let options: Options

    var port: Int { serverChannel.locked { $0?.localAddress?.port ?? 0 } }
    var requests: [HTTPRequestHead] { upgradeRequests.locked { $0 } }
    var receivedTexts: [String] { received.locked { $0 } }
    var connectionCount: Int { requests.count }

    init(_ options: Options = Options()) async throws {
        self.options = options
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let csms = self
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if options.silent { return }
                    if let tls = options.tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    let upgrader = NIOWebSocketServerUpgrader(
                        shouldUpgrade: { channel, head in
                            csms.upgradeRequests.locked { $0.append(head) }
                            if let required = options.requiredAuthorization,
                               head.headers.first(name: "Authorization") != required {
                                return channel.eventLoop.makeSucceededFuture(nil)
                            }
                            let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
                            var headers = HTTPHeaders()
                            if let chosen = options.choose(offered) {
                                headers.add(name: "Sec-WebSocket-Protocol", value: chosen)
                            }
                            return channel.eventLoop.makeSucceededFuture(headers)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ServerFrames(csms: csms))
                            }
                        })
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(name: "unauthorized", promise: nil)
                        }))
                    if options.requiredAuthorization != nil {
                        try sync.addHandler(Unauthorized(), name: "unauthorized")
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        serverChannel.locked { $0 = channel }
    }

    func shutdown() async {
        let channel = serverChannel.locked { $0 }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }

    /// Answers any request that was not upgraded with 401.
    final class Unauthorized: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            var headers = HTTPHeaders()
            headers.add(name: "WWW-Authenticate", value: "Basic realm=\"ocpp\"")
            headers.add(name: "Content-Length", value: "0")
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .unauthorized,
                                                                 headers: headers))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    final class ServerFrames: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let csms: TestCSMS
        init(csms: TestCSMS) { self.csms = csms }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text:
                let text = String(buffer: frame.unmaskedData)
                csms.received.locked { $0.append(text) }
                let echo = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: text))
                context.writeAndFlush(wrapOutboundOut(echo), promise: nil)
            case .ping:
                csms.pingsSeen.locked { $0 += 1 }
                if csms.options.answerPings {
                    let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
                    context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
                }
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }
    }
}
