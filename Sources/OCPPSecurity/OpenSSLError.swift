import CCrypto

/// A libcrypto call failed. `details` is the BoringSSL error queue at that moment, oldest first,
/// so the cause BoringSSL reported (bad PEM, wrong key type, …) reaches the log and the caller.
public struct OpenSSLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let details: [String]

    public var description: String {
        details.isEmpty ? "\(operation) failed" : "\(operation) failed: " + details.joined(separator: "; ")
    }

    /// Takes (and so empties) the calling thread's BoringSSL error queue.
    static func drain(_ operation: String) -> OpenSSLError {
        var lines: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            lines.append(string(fromNulTerminated: buffer))
        }
        return OpenSSLError(operation: operation, details: lines)
    }
}

func string(fromNulTerminated buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Owns an in-memory BIO: BoringSSL's PEM and name printers write into it, and parsers read from it.
final class MemoryBIO {
    let pointer: OpaquePointer

    /// `secure`: for private key material. BoringSSL has no secure heap: its memory BIOs clear
    /// their buffers when freed (OPENSSL_free zeroes), which is what matters here.
    init(secure: Bool = false) throws {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError.drain("BIO_new") }
        pointer = bio
    }

    /// The bytes are copied, so the BIO never points into Swift-managed memory.
    convenience init(bytes: [UInt8], secure: Bool = false) throws {
        try self.init(secure: secure)
        if bytes.isEmpty { return }
        let written = bytes.withUnsafeBytes { BIO_write(pointer, $0.baseAddress, Int32(clamping: $0.count)) }
        guard written == Int32(clamping: bytes.count) else { throw OpenSSLError.drain("BIO_write") }
    }

    deinit { BIO_free(pointer) }

    func contents() -> [UInt8] {
        var start: UnsafePointer<CChar>? = nil
        let length = swiftevse_bio_mem_contents(pointer, &start)
        guard let start, length > 0 else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    func contentsAsString() -> String { String(decoding: contents(), as: UTF8.self) }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var result = ""
    result.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        result.append(digits[Int(byte >> 4)])
        result.append(digits[Int(byte & 0x0f)])
    }
    return result
}
