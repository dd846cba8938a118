import Foundation
import HAL
import Logging
import NIOCore
import NIOPosix

/// A bound TCP server and where it listens.
public struct BoundServer: Sendable {
    public let channel: any Channel
    public var port: Int { channel.localAddress?.port ?? 0 }
    public func close() async { try? await channel.close() }
}

/// HOST:PORT parsing for the command line.
public struct HostPort: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }

    public init?(_ s: String) {
        guard let colon = s.lastIndex(of: ":"), let p = Int(s[s.index(after: colon)...]), (0...65535).contains(p) else { return nil }
        host = String(s[..<colon])
        if host.isEmpty { return nil }
        port = p
    }
    public var description: String { "\(host):\(port)" }
}

/// The firmware's socket: one `HALSession` per TCP connection, lines in, lines out.
final class HALLineHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let simulator: Simulator
    var session: HALSession?
    var pending: [UInt8] = []

    init(simulator: Simulator) { self.simulator = simulator }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        session = simulator.openHALSession { line in
            var buf = channel.allocator.buffer(capacity: line.utf8.count + 1)
            buf.writeString(line + "\n")
            channel.writeAndFlush(buf, promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A write of a push (made while the simulator holds its lock) can close the channel
        // synchronously; closing the session takes that lock, so do it after this stack unwinds.
        if let s = session { context.eventLoop.execute { s.close() } }
        session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        if let bytes = buf.readBytes(length: buf.readableBytes) { pending += bytes }
        var out = ""
        while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<nl], as: UTF8.self)
            pending.removeSubrange(...nl)
            if let reply = session?.handle(line: line) { out += reply + "\n" }
        }
        if pending.count > 65_536 {  // no line is that long: a confused peer
            context.close(promise: nil)
            return
        }
        if !out.isEmpty {
            var b = context.channel.allocator.buffer(capacity: out.utf8.count)
            b.writeString(out)
            context.writeAndFlush(wrapOutboundOut(b), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Modbus TCP: MBAP frames in, responses out; no answer for an offline meter.
final class ModbusTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let simulator: Simulator
    var pending: [UInt8] = []

    init(simulator: Simulator) { self.simulator = simulator }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        if let bytes = buf.readBytes(length: buf.readableBytes) { pending += bytes }
        while let len = ModbusTCPResponder.frameLength(pending[...]) {
            guard len <= 260, len >= 8 else { context.close(promise: nil); return }
            guard pending.count >= len else { break }
            let frame = Array(pending[..<len])
            pending.removeSubrange(..<len)
            let sim = simulator
            if let reply = ModbusTCPResponder.respond(to: frame, units: { sim.meterImage(unit: $0) }) {
                var b = context.channel.allocator.buffer(capacity: reply.count)
                b.writeBytes(reply)
                context.writeAndFlush(wrapOutboundOut(b), promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

public enum SimulatorServers {
    public static func startHAL(_ simulator: Simulator, at address: HostPort) async throws -> BoundServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HALLineHandler(simulator: simulator))
                }
            }
            .bind(host: address.host, port: address.port).get()
        return BoundServer(channel: channel)
    }

    public static func startModbus(_ simulator: Simulator, at address: HostPort) async throws -> BoundServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ModbusTCPHandler(simulator: simulator))
                }
            }
            .bind(host: address.host, port: address.port).get()
        return BoundServer(channel: channel)
    }
}
