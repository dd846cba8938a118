import NIOCore
import NIOWebSocket

/// The charge point's text messages as finished WebSocket frames (RFC 6455 5.2): header, masking
/// key and masked payload in one buffer, made on the sending thread.
///
/// swift-nio's `WebSocketFrameEncoder` masks a copy of the payload byte by byte (the frame's
/// buffer is still held by the `NIOAny` that carried it, so masking in place copies it first),
/// and writes the header as a second buffer: for a 100-byte answer, two allocations, a loop of
/// about 30 instructions a byte, and a `writev` of two pieces. This masks eight bytes at a time
/// while it copies the text, once.
enum TextFrame {
    /// The frame header's size for a masked frame of `payloadLength` bytes.
    static func headerLength(payloadLength: Int) -> Int {
        switch payloadLength {
        case 0...125: return 2 + 4
        case 126...0xFFFF: return 4 + 4
        default: return 10 + 4
        }
    }

    /// `maskKey`: the four bytes of the masking key, in wire order.
    static func encode(_ text: String, maskKey key: (UInt8, UInt8, UInt8, UInt8),
                       allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = text
        let length = text.utf8.count
        var frame = allocator.buffer(capacity: headerLength(payloadLength: length) + length)
        frame.writeInteger(UInt8(0x81))  // FIN, opcode 1 (text)
        switch length {
        case 0...125:
            frame.writeInteger(UInt8(0x80 | length))  // the mask bit and the length
        case 126...0xFFFF:
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))  // network byte order
        default:
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeMultipleIntegers(key.0, key.1, key.2, key.3)
        _ = text.withUTF8 { payload in
            frame.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
                mask(UnsafeRawBufferPointer(payload), into: out, key: key)
                return length
            }
        }
        return frame
    }

    /// `out[i] = payload[i] ^ key[i % 4]`, eight bytes at a time, then the tail.
    static func mask(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                     key: (UInt8, UInt8, UInt8, UInt8)) {
        // The key twice over, in memory order, so one 8-byte XOR masks bytes i ..< i+8 for
        // every i that is a multiple of 8 (and so of 4).
        let wideKey = withUnsafeBytes(of: (key.0, key.1, key.2, key.3, key.0, key.1, key.2, key.3)) {
            $0.loadUnaligned(as: UInt64.self)
        }
        let count = payload.count
        var i = 0
        while i + 8 <= count {
            let word = payload.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ wideKey
            out.storeBytes(of: word, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        withUnsafeBytes(of: key) { keyBytes in
            while i < count {
                out[i] = payload[i] ^ keyBytes[i & 3]
                i += 1
            }
        }
    }
}

/// Where finished frames enter the pipeline: just below swift-nio's `WebSocketFrameEncoder`, so
/// that they go on to TLS (when there is TLS) and the socket untouched. Ping, pong and close
/// frames still go through the encoder. Every write happens on the channel's loop, in the order
/// the loop runs them, so frames from both paths keep their order.
final class TextFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// On the channel's loop. A frame written after the handler left the pipeline (the
    /// connection closed) is dropped, as a write to a closed channel would be.
    func write(_ frame: ByteBuffer) {
        context?.write(wrapOutboundOut(frame), promise: nil)
    }

    func flush() {
        context?.flush()
    }
}
