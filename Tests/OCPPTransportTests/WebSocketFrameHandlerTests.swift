import HAL
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Locking
import Synchronization
import Testing
@testable import OCPPTransport

/// The post-upgrade handler on an EmbeddedChannel: virtual time for pings, hand-made frames.
@Suite("OCPP WebSocket frames")
struct WebSocketFrameHandlerTests {
    final class Received: Sendable {
        let texts = Mutex<[String]>([])
        var all: [String] { texts.locked { $0 } }
    }

    struct Harness {
        let channel: EmbeddedChannel
        let received: Received
        let closed: EventLoopFuture<OCPPDisconnectReason>
    }

    func makeHarness(ping: EVSEDuration? = .seconds(Int64(60)), live: PingIntervalSetting? = nil,
                     pongTimeout: EVSEDuration = .seconds(Int64(5)), maxMessageBytes: Int = 64) throws -> Harness {
        let channel = EmbeddedChannel()
        let received = Received()
        let closed = channel.eventLoop.makePromise(of: OCPPDisconnectReason.self)
        let handler = OCPPWebSocketFrameHandler(maxMessageBytes: maxMessageBytes, pingInterval: ping, livePingInterval: live,
                                                pongTimeout: pongTimeout, closed: closed) { text in
            received.texts.locked { $0.append(text) }
        }
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return Harness(channel: channel, received: received, closed: closed.futureResult)
    }

    func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, data: ByteBuffer(string: text))
    }

    func outbound(_ channel: EmbeddedChannel) throws -> [WebSocketFrame] {
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    func closeCode(_ frame: WebSocketFrame?) -> UInt16? {
        var data = frame?.data  // our frames carry their mask key; the encoder applies it
        return data?.readInteger(as: UInt16.self)
    }

    @Test("a ping goes out every interval; no pong within the timeout closes with .pongTimeout")
    func pongTimeout() throws {
        let h = try makeHarness()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(try outbound(h.channel).isEmpty)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let pings = try outbound(h.channel)
        #expect(pings.map(\.opcode) == [.ping])
        #expect(pings.first?.maskKey != nil)  // clients mask every frame
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(h.channel.isActive)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let close = try outbound(h.channel)
        #expect(close.map(\.opcode) == [.connectionClose])
        #expect(!h.channel.isActive)
        #expect(try h.closed.wait() == .pongTimeout)
    }

    @Test("the charge point masks its frames with fresh, unpredictable keys")
    func maskingKeysDiffer() throws {
        // 32-bit keys from BoringSSL's generator; 500 of them come from more than one of the
        // pool's draws of 256. They repeat one another with a chance of about 3 in 100,000; a
        // broken source (zeros, a constant, a counter stuck, a pool never refilled) cannot pass.
        let keys = (0..<500).map { _ in WebSocketMaskingKey.fromDRBG() }
        #expect(Set(keys.map { Array($0) }).count >= 499)
        #expect(!keys.contains([0, 0, 0, 0]))
        let bits = keys.reduce(0) { $0 + $1.reduce(0) { $0 + $1.nonzeroBitCount } }
        #expect((7_000...9_000).contains(bits), "about half of the 16,000 bits set: \(bits)")
    }

    @Test("a pong in time keeps the connection, and pinging continues")
    func pongInTime() throws {
        let h = try makeHarness()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try outbound(h.channel).map(\.opcode) == [.ping])
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        try h.channel.writeInbound(frame(.pong, ""))
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(58))
        #expect(h.channel.isActive)
        #expect(try outbound(h.channel).map(\.opcode) == [.ping])
    }

    @Test("a changed ping interval applies to the live connection at once (WebSocketPingInterval)")
    func pingIntervalChangedWhileConnected() throws {
        let live = PingIntervalSetting(seconds: 3_600)
        let h = try makeHarness(live: live)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try outbound(h.channel).isEmpty, "the live setting, not the configured 60 s, decides")
        live.set(seconds: 5)
        h.channel.embeddedEventLoop.run()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(try outbound(h.channel).map(\.opcode) == [.ping], "not an hour later")
        try h.channel.writeInbound(frame(.pong, ""))
        live.set(seconds: 0)
        h.channel.embeddedEventLoop.run()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(3_600))
        #expect(try outbound(h.channel).isEmpty, "0 turns pinging off")
        live.set(seconds: 10)
        h.channel.embeddedEventLoop.run()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try outbound(h.channel).map(\.opcode) == [.ping])
    }

    @Test("no ping interval: no pings")
    func pingsOff() throws {
        let h = try makeHarness(ping: nil)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(try outbound(h.channel).isEmpty)
        #expect(h.channel.isActive)
    }

    @Test("server pings are answered with a pong carrying the same data")
    func answersPings() throws {
        let h = try makeHarness()
        try h.channel.writeInbound(frame(.ping, "abc"))
        let out = try outbound(h.channel)
        #expect(out.map(\.opcode) == [.pong])
        #expect(out.first.map { String(buffer: $0.data) } == "abc")
    }

    @Test("text messages are delivered; fragments are reassembled")
    func textAndFragments() throws {
        let h = try makeHarness()
        try h.channel.writeInbound(frame(.text, "[2,\"a\""))
        try h.channel.writeInbound(frame(.text, "[2,", fin: false))
        try h.channel.writeInbound(frame(.continuation, "\"b\",", fin: false))
        try h.channel.writeInbound(frame(.ping, "x"))  // control frames may sit between fragments
        try h.channel.writeInbound(frame(.continuation, "\"é\"]"))
        #expect(h.received.all == ["[2,\"a\"", "[2,\"b\",\"é\"]"])
        #expect(h.channel.isActive)
    }

    @Test("a binary frame closes with 1003 and a protocol violation")
    func binaryRefused() throws {
        let h = try makeHarness()
        try h.channel.writeInbound(frame(.binary, "[2]"))
        let out = try outbound(h.channel)
        #expect(closeCode(out.first) == 1003)
        #expect(!h.channel.isActive)
        guard case .protocolViolation = try h.closed.wait() else {
            Issue.record("expected a protocol violation")
            return
        }
        #expect(h.received.all.isEmpty)
    }

    @Test("a fragmented message over the limit closes with 1009 and is not delivered")
    func oversizedFragments() throws {
        let h = try makeHarness(maxMessageBytes: 10)
        try h.channel.writeInbound(frame(.text, "12345678", fin: false))
        #expect(h.channel.isActive)
        try h.channel.writeInbound(frame(.continuation, "9abc", fin: false))
        #expect(closeCode(try outbound(h.channel).first) == 1009)
        #expect(!h.channel.isActive)
        #expect(h.received.all.isEmpty)
    }

    @Test("invalid UTF-8 in a text message closes with 1007")
    func invalidUTF8() throws {
        let h = try makeHarness()
        try h.channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x5B, 0xC3, 0x28])))
        #expect(closeCode(try outbound(h.channel).first) == 1007)
        #expect(h.received.all.isEmpty)
    }

    @Test("a server close frame is echoed and reported with its code")
    func serverClose() throws {
        let h = try makeHarness()
        var data = ByteBuffer()
        data.writeInteger(UInt16(1001))
        data.writeString("restart")
        try h.channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        #expect(try outbound(h.channel).map(\.opcode) == [.connectionClose])
        #expect(try h.closed.wait() == .closedByServer(code: 1001, reason: "restart"))
    }
}
