#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole small files, read with libc (no Foundation in the firmware): configuration files,
/// certificates and keys, the AuthorizationKey file, the firmware version file. The one reader
/// every layer uses. A limit keeps a wrong path (a device, a log) from filling memory.
public enum SmallFile {
    /// Why a file could not be read: the path and the system's reason, or the size limit.
    public struct ReadError: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// The file's bytes.
    public static func read(_ path: String, limit: Int) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return out }
            out += chunk[0..<n]
            if out.count > limit { throw ReadError(path: path, reason: "larger than \(limit) bytes") }
        }
    }

    /// The file's bytes; nil when it cannot be read or is larger than `limit`.
    public static func bytes(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        try? read(path, limit: limit)
    }

    /// The file as UTF-8 text; nil as for `bytes`.
    public static func text(_ path: String, limit: Int = 1 << 20) -> String? {
        bytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }
}
