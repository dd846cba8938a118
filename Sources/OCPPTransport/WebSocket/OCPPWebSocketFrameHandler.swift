import HAL
import NIOCore
import NIOWebSocket

/// The OCPP side of an upgraded WebSocket: text messages only (fragments reassembled up to a
/// limit), pings every interval with a pong deadline, server pings answered, close handshake.
final class OCPPWebSocketFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let maxMessageBytes: Int
    private let pingInterval: TimeAmount?
    private let pongTimeout: TimeAmount
    private let onText: @Sendable (String) -> Void
    private let closed: EventLoopPromise<OCPPDisconnectReason>

    private var fragments: ByteBuffer?
    private var nextPing: Scheduled<Void>?
    private let livePingInterval: PingIntervalSetting?
    private var pingObservation: UInt64?
    private var pongDeadline: Scheduled<Void>?
    private var reason: OCPPDisconnectReason?
    private var pingCounter: UInt32 = 0

    init(maxMessageBytes: Int, pingInterval: EVSEDuration?, livePingInterval: PingIntervalSetting? = nil,
         pongTimeout: EVSEDuration, closed: EventLoopPromise<OCPPDisconnectReason>,
         onText: @escaping @Sendable (String) -> Void) {
        self.maxMessageBytes = maxMessageBytes
        self.livePingInterval = livePingInterval
        if let pingInterval, pingInterval.microseconds > 0 {
            self.pingInterval = .microseconds(pingInterval.microseconds)
        } else {
            self.pingInterval = nil
        }
        self.pongTimeout = .microseconds(max(1, pongTimeout.microseconds))
        self.closed = closed
        self.onText = onText
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startPinging(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startPinging(context: context)
        context.fireChannelActive()
    }

    private func startPinging(context: ChannelHandlerContext) {
        guard nextPing == nil, pingObservation == nil else { return }
        if let live = livePingInterval {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            pingObservation = live.observe {
                loop.execute {
                    let (handler, context) = loopBound.value
                    handler.schedulePing(context: context)
                }
            }
        }
        schedulePing(context: context)
    }

    /// The next ping, one interval from now (the interval as set now: a change reschedules).
    private func schedulePing(context: ChannelHandlerContext) {
        nextPing?.cancel()
        nextPing = nil
        guard context.channel.isActive else { return }
        let interval = livePingInterval.map { $0.interval.map { TimeAmount.microseconds($0.microseconds) } } ?? pingInterval
        guard let interval else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        nextPing = context.eventLoop.scheduleTask(in: interval) {
            let (handler, context) = loopBound.value
            handler.nextPing = nil
            handler.sendPing(context: context)
            handler.schedulePing(context: context)
        }
    }

    private func stopPinging() {
        nextPing?.cancel()
        nextPing = nil
        if let token = pingObservation { livePingInterval?.stopObserving(token) }
        pingObservation = nil
    }

    private func sendPing(context: ChannelHandlerContext) {
        guard context.channel.isActive, pongDeadline == nil else { return }
        pingCounter &+= 1
        var payload = context.channel.allocator.buffer(capacity: 4)
        payload.writeInteger(pingCounter)
        let frame = WebSocketFrame(fin: true, opcode: .ping, maskKey: .fromDRBG(), data: payload)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pongDeadline = context.eventLoop.scheduleTask(in: pongTimeout) {
            let (handler, context) = loopBound.value
            handler.pongDeadline = nil
            handler.closeConnection(context: context, reason: .pongTimeout, code: .goingAway)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if fragments != nil {
                return violation(context, "a new text message began before the fragmented one ended", .protocolError)
            }
            var data = frame.unmaskedData
            if frame.fin {
                deliver(context: context, &data)
            } else {
                fragments = data
                checkSize(context: context)
            }
        case .continuation:
            guard var buffer = fragments else {
                return violation(context, "continuation frame without a message to continue", .protocolError)
            }
            var data = frame.unmaskedData
            buffer.writeBuffer(&data)
            fragments = buffer
            guard checkSize(context: context) else { return }
            if frame.fin {
                fragments = nil
                deliver(context: context, &buffer)
            }
        case .binary:
            violation(context, "binary frames are not used by OCPP-J", .unacceptableData)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .fromDRBG(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            pongDeadline?.cancel()
            pongDeadline = nil
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            let text = data.readString(length: data.readableBytes) ?? ""
            if reason == nil { reason = .closedByServer(code: code, reason: text) }
            var echo = context.channel.allocator.buffer(capacity: 2)
            echo.writeInteger(code ?? 1000)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .fromDRBG(), data: echo)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
        default:
            violation(context, "unknown frame opcode", .protocolError)
        }
    }

    @discardableResult
    private func checkSize(context: ChannelHandlerContext) -> Bool {
        guard let fragments, fragments.readableBytes > maxMessageBytes else { return true }
        self.fragments = nil
        violation(context, "message larger than \(maxMessageBytes) bytes", .messageTooLarge)
        return false
    }

    private func deliver(context: ChannelHandlerContext, _ buffer: inout ByteBuffer) {
        guard buffer.readableBytes <= maxMessageBytes else {
            return violation(context, "message larger than \(maxMessageBytes) bytes", .messageTooLarge)
        }
        // Validated straight from the frame's bytes (no copy, no scalar-by-scalar rebuild): a
        // message with a broken sequence is refused, never repaired.
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            return violation(context, "text message is not valid UTF-8", .dataInconsistentWithMessage)
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        onText(text)
    }

    private func violation(_ context: ChannelHandlerContext, _ text: String, _ code: WebSocketErrorCode) {
        closeConnection(context: context, reason: .protocolViolation(text), code: code)
    }

    private func closeConnection(context: ChannelHandlerContext, reason: OCPPDisconnectReason, code: WebSocketErrorCode) {
        if self.reason == nil { self.reason = reason }
        guard context.channel.isActive else { return }
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .fromDRBG(), data: data)
        let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Local close (shutdown): close frame 1000, then the socket.
    func closeLocally(context: ChannelHandlerContext) {
        closeConnection(context: context, reason: .closedLocally, code: .normalClosure)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if reason == nil {
            if let error = error as? NIOWebSocketError {
                reason = .protocolViolation("\(error)")
            } else {
                reason = .connectionError("\(error)")
            }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopPinging()
        pongDeadline?.cancel()
        pongDeadline = nil
        closed.succeed(reason ?? .connectionError("connection closed without a close frame"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopPinging()
        pongDeadline?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event as? LocalCloseEvent != nil {
            closeLocally(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Asks the frame handler to close with a proper close frame.
struct LocalCloseEvent: Sendable {}
