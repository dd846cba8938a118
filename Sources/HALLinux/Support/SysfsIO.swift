#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// Reads and writes sysfs attributes (one short value per file) with errors that name the file.
/// Every write can be traced, so tests check the order the kernel would see.
final class SysfsIO: Sendable {
    private let trace: Mutex<[String]>?

    init(tracing: Bool = false) { trace = tracing ? Mutex([]) : nil }

    /// "path <- value" for every write so far (only when tracing).
    var writes: [String] { trace?.locked { $0 } ?? [] }

    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    func read(_ path: String) throws -> String {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw hardwareError(errno: errno, device: path, doing: "open for reading") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { Glibc.read(fd, buf.baseAddress, buf.count) } }
            if n < 0 { throw hardwareError(errno: errno, device: path, doing: "read") }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 65_536 { break }
        }
        return String(decoding: bytes, as: UTF8.self).trimmingSysfsWhitespace()
    }

    func write(_ value: String, to path: String) throws {
        trace?.locked { $0.append("\(path) <- \(value)") }
        let fd = retryingEINTR { open(path, O_WRONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw hardwareError(errno: errno, device: path, doing: "open for writing") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { buf in retryingEINTR { Glibc.write(fd, buf.baseAddress, buf.count) } }
        if n < 0 { throw hardwareError(errno: errno, device: path, doing: "write \"\(value)\"") }
        if n != bytes.count {
            throw HardwareError(.ioFailed, device: path, "short write of \"\(value)\" (\(n) of \(bytes.count) bytes)")
        }
    }

    /// Names in a directory, sorted; empty when it cannot be read.
    func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

extension String {
    func trimmingSysfsWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Sleeps the calling thread (bring-up paths only: waiting for a sysfs node udev creates).
func sleepMicroseconds(_ us: UInt32) {
    var ts = timespec(tv_sec: Int(us / 1_000_000), tv_nsec: Int(us % 1_000_000) * 1_000)
    var remaining = timespec()
    while nanosleep(&ts, &remaining) == -1 && errno == EINTR { ts = remaining }
}
