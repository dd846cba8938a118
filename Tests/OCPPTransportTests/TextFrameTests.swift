import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
@testable import OCPPTransport

/// The charge point's own text-frame encoder, held against swift-nio's encoder and decoder: the
/// same bytes on the wire for every length class, and the same text read back.
@Suite("WebSocket text frames")
struct TextFrameTests {
    /// Text of exactly `length` UTF-8 bytes, with two-byte characters in it so the masking runs
    /// over multi-byte sequences and the word loop's tail sees every remainder.
    static func text(length: Int) -> String {
        var text = String(repeating: "é", count: length / 4)  // 2 bytes each
        text += String(repeating: "k", count: length - text.utf8.count)
        return text
    }

    static let lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 100, 125, 126, 127, 1_000, 65_535, 65_536, 70_001]

    static func swiftNIOEncoding(_ text: String, key: WebSocketMaskingKey) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: channel.allocator.buffer(string: text))
        try channel.writeAndFlush(frame).wait()
        var bytes: [UInt8] = []
        while var piece = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += piece.readBytes(length: piece.readableBytes) ?? []
        }
        _ = try channel.finish()
        return bytes
    }

    @Test("the bytes swift-nio's encoder writes, for every length class", arguments: lengths)
    func sameBytesAsSwiftNIO(length: Int) throws {
        let key: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)
        let text = Self.text(length: length)
        #expect(text.utf8.count == length)
        var ours = TextFrame.encode(text, maskKey: key, allocator: ByteBufferAllocator())
        #expect(ours.readableBytes == TextFrame.headerLength(payloadLength: length) + length)
        let bytes = ours.readBytes(length: ours.readableBytes) ?? []
        #expect(bytes == (try Self.swiftNIOEncoding(text, key: [key.0, key.1, key.2, key.3])))
        if length > 0 { #expect(bytes.suffix(length) != Array(text.utf8)) }  // masked, not plain
    }

    @Test("swift-nio's decoder reads back one final, masked text frame with the text", arguments: lengths)
    func readBackBySwiftNIO(length: Int) throws {
        let key = MaskingKeyPool.shared.next()
        let text = Self.text(length: length)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(TextFrame.encode(text, maskKey: key, allocator: channel.allocator))
        let frame = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(frame.fin)
        #expect(frame.opcode == .text)
        #expect(frame.maskKey == [key.0, key.1, key.2, key.3])
        var payload = frame.unmaskedData
        #expect(payload.readString(length: payload.readableBytes) == text)
        #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
        _ = try channel.finish()
    }
}
