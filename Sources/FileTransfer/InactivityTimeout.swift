import NIOCore

/// Outbound events that stop and restart a channel's inactivity timer: the FTP control
/// connection is silent while its data connection carries the file, which has its own timer.
public struct PauseInactivityTimeout: Sendable {}
public struct ResumeInactivityTimeout: Sendable {}

/// Fails the channel with `FileTransferError.timeout` when nothing was read or written for
/// `timeout` (NIO's IdleStateHandler only signals; a transfer must end with a clear error).
final class InactivityTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let timeout: TimeAmount
    private let what: String
    private var scheduled: Scheduled<Void>?
    private var paused = false

    init(timeout: TimeAmount, what: String) {
        self.timeout = timeout
        self.what = what
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        arm(context)
        context.write(data, promise: promise)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        switch event {
        case is PauseInactivityTimeout:
            paused = true
            disarm()
            promise?.succeed()
        case is ResumeInactivityTimeout:
            paused = false
            arm(context)
            promise?.succeed()
        default:
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    private func arm(_ context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        guard !paused else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let what = what
        scheduled = context.eventLoop.scheduleTask(in: timeout) {
            let context = bound.value
            context.fireErrorCaught(FileTransferError.timeout(what))
            context.close(promise: nil)
        }
    }

    private func disarm() {
        scheduled?.cancel()
        scheduled = nil
    }
}
