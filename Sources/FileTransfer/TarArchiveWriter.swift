#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a POSIX ustar archive (what `tar -xf` and Python's tarfile read) member by member,
/// straight to disk: files are copied in chunks, never held in memory whole.
public final class TarArchiveWriter {
    public let path: String
    private var descriptor: Int32
    public private(set) var bytesWritten: UInt64 = 0

    public init(path: String) throws(FileTransferError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .localFile(DownloadFile.errnoText("open", path)) }
        // An archive holds the frame log and card UIDs: 0600 whatever the umask, also when an
        // earlier file at this path is reused (O_TRUNC keeps its mode).
        guard fchmod(descriptor, 0o600) == 0 else {
            let error = FileTransferError.localFile(DownloadFile.errnoText("fchmod", path))
            close(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// A member with the given contents.
    public func add(name: String, bytes: [UInt8], modifiedAt: Int64) throws(FileTransferError) {
        try writeAll(try Self.header(name: name, size: UInt64(bytes.count), modifiedAt: modifiedAt))
        try writeAll(bytes)
        try pad(UInt64(bytes.count))
    }

    public func add(name: String, text: String, modifiedAt: Int64) throws(FileTransferError) {
        try add(name: name, bytes: Array(text.utf8), modifiedAt: modifiedAt)
    }

    /// A copy of the file at `source` as it is now (a file that grows meanwhile is cut at the
    /// size it had; one that shrinks is padded with zeros, so the archive stays readable).
    public func addFile(name: String, from source: String) throws(FileTransferError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .localFile(DownloadFile.errnoText("open", source)) }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw .localFile(DownloadFile.errnoText("stat", source)) }
        let size = UInt64(info.st_size)
        try writeAll(try Self.header(name: name, size: size, modifiedAt: Int64(info.st_mtim.tv_sec)))
        var remaining = size
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while remaining > 0 {
            let want = Int(min(UInt64(chunk.count), remaining))
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .localFile(DownloadFile.errnoText("read", source))
            }
            if n == 0 {
                try writeAll([UInt8](repeating: 0, count: Int(remaining)))
                break
            }
            try writeAll(Array(chunk[0..<n]))
            remaining -= UInt64(n)
        }
        try pad(size)
    }

    /// The two zero blocks that end an archive; the file is synced and closed.
    public func finish() throws(FileTransferError) {
        try writeAll([UInt8](repeating: 0, count: 1_024))
        guard fsync(descriptor) == 0 else { throw .localFile(DownloadFile.errnoText("fsync", path)) }
        let result = close(descriptor)
        descriptor = -1
        guard result == 0 else { throw .localFile(DownloadFile.errnoText("close", path)) }
    }

    private func pad(_ size: UInt64) throws(FileTransferError) {
        let rest = Int(size % 512)
        if rest != 0 { try writeAll([UInt8](repeating: 0, count: 512 - rest)) }
    }

    private func writeAll(_ bytes: [UInt8]) throws(FileTransferError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .localFile(DownloadFile.errnoText("write", path))
            }
            offset += n
        }
        bytesWritten += UInt64(bytes.count)
    }

    /// The 512-byte ustar header of a regular file, mode 0644, owned by root.
    static func header(name: String, size: UInt64, modifiedAt: Int64) throws(FileTransferError) -> [UInt8] {
        var nameBytes = Array(name.utf8)
        var prefixBytes: [UInt8] = []
        if nameBytes.count > 100 {
            // ustar splits a long path at a "/" into prefix (155) and name (100).
            guard let cut = nameBytes.indices.last(where: { nameBytes[$0] == UInt8(ascii: "/") && $0 <= 155 && nameBytes.count - $0 - 1 <= 100 }) else {
                throw .localFile("archive member name too long: \(name)")
            }
            prefixBytes = Array(nameBytes[..<cut])
            nameBytes = Array(nameBytes[(cut + 1)...])
        }
        guard !nameBytes.isEmpty else { throw .localFile("empty archive member name") }
        guard size < 0o77777777777 else { throw .localFile("\(name) is too large for a ustar archive") }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (i, b) in bytes.enumerated() { header[offset + i] = b }
        }
        func octal(_ value: UInt64, width: Int) -> [UInt8] {
            // width - 1 digits, zero padded, then NUL.
            var digits = Array(String(value, radix: 8).utf8)
            while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
            return digits + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(UInt64(max(0, modifiedAt)), width: 12), at: 136)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(prefixBytes, at: 345)
        let checksum = header.reduce(UInt64(0)) { $0 + UInt64($1) }
        // Six octal digits, NUL, space: the form every tar reads.
        put(octal(checksum, width: 7) + [UInt8(ascii: " ")], at: 148)
        return header
    }
}
