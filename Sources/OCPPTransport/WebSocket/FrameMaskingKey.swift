import CCrypto
import Locking
import NIOWebSocket
import Synchronization

extension WebSocketMaskingKey {
    /// A masking key for a frame the charge point sends (RFC 6455 5.3: from a strong source of
    /// entropy, unpredictable to the network). Taken from BoringSSL's random generator, which is
    /// seeded by the kernel and reseeded after a fork, not from `.random()`, whose system
    /// generator makes a getrandom syscall for every frame.
    static func fromDRBG() -> WebSocketMaskingKey {
        let key = MaskingKeyPool.shared.next()
        return WebSocketMaskingKey([key.0, key.1, key.2, key.3])!  // four bytes: never nil
    }
}

/// Masking keys drawn from BoringSSL 256 at a time. Each `RAND_bytes` call sets up the
/// generator's AES key and mixes in fork-detection data, about 4,700 instructions whatever the
/// length asked for: drawn one by one, that was 6 % of the CPU of answering a one-key
/// GetConfiguration. The 1 KB of keys waiting here are no weaker than those drawn one by one:
/// they only mask frames, and only the network must not predict them. (No process forks from
/// evsed without exec, so no child could send the parent's next keys.)
final class MaskingKeyPool: Sendable {
    static let shared = MaskingKeyPool()
    static let keysPerDraw = 256

    private struct Keys {
        var bytes = [UInt8](repeating: 0, count: MaskingKeyPool.keysPerDraw * 4)
        var used = MaskingKeyPool.keysPerDraw
    }
    private let keys = Mutex(Keys())

    /// Four bytes, not swift-nio's `WebSocketMaskingKey`: its initializer is generic and not
    /// specialized across modules, and cost 40 % of the text frame's encoding.
    func next() -> (UInt8, UInt8, UInt8, UInt8) {
        keys.locked { keys in
            if keys.used == Self.keysPerDraw {
                // RAND_bytes cannot fail in BoringSSL: it aborts the process rather than return
                // weak bytes.
                keys.bytes.withUnsafeMutableBufferPointer { _ = RAND_bytes($0.baseAddress!, $0.count) }
                keys.used = 0
            }
            let at = keys.used * 4
            keys.used += 1
            return (keys.bytes[at], keys.bytes[at + 1], keys.bytes[at + 2], keys.bytes[at + 3])
        }
    }
}
