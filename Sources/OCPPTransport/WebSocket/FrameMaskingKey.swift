import CCrypto
import NIOWebSocket

extension WebSocketMaskingKey {
    /// A masking key for a frame the charge point sends (RFC 6455 5.3: from a strong source of
    /// entropy, unpredictable to the network). Taken from BoringSSL's random generator, which is
    /// seeded by the kernel and reseeded after a fork, instead of `.random()`, whose system
    /// generator makes a getrandom syscall for every frame: one syscall fewer per message.
    static func fromDRBG() -> WebSocketMaskingKey {
        var generator = BoringSSLRandom()
        return .random(using: &generator)
    }
}

/// BoringSSL's `RAND_bytes` as a Swift random number generator.
struct BoringSSLRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        var value: UInt64 = 0
        // RAND_bytes cannot fail in BoringSSL: it aborts the process rather than return weak bytes.
        withUnsafeMutableBytes(of: &value) { _ = RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }
        return value
    }
}
