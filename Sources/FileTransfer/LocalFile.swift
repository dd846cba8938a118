#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A download being written: `<path>.part` until `commit()` fsyncs it and renames it to `path`,
/// so a reader (or a restart after a power cut) never takes a half-written file for a whole one.
final class DownloadFile {
    let path: String
    private let partPath: String
    private var descriptor: Int32
    private(set) var bytesWritten: UInt64 = 0

    init(path: String) throws(FileTransferError) {
        self.path = path
        partPath = path + ".part"
        descriptor = open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .localFile(Self.errnoText("open", partPath)) }
        // 0600 whatever the umask, also for a `.part` an earlier run left (O_TRUNC keeps its mode).
        guard fchmod(descriptor, 0o600) == 0 else {
            let error = FileTransferError.localFile(Self.errnoText("fchmod", partPath))
            close(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit { discard() }

    func write(_ buffer: ByteBuffer) throws(FileTransferError) {
        var remaining = buffer.readableBytesView[...]
        while !remaining.isEmpty {
            let n = remaining.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .localFile(Self.errnoText("write", partPath))
            }
            remaining = remaining.dropFirst(n)
            bytesWritten += UInt64(n)
        }
    }

    func commit() throws(FileTransferError) {
        guard fsync(descriptor) == 0 else { throw .localFile(Self.errnoText("fsync", partPath)) }
        let closed = close(descriptor)
        descriptor = -1
        guard closed == 0 else { throw .localFile(Self.errnoText("close", partPath)) }
        guard rename(partPath, path) == 0 else { throw .localFile(Self.errnoText("rename", path)) }
    }

    /// Removes the partial file (nothing once committed).
    func discard() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(partPath)
    }

    static func errnoText(_ operation: String, _ path: String) -> String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// A file being uploaded, read in chunks.
final class UploadFile {
    let path: String
    let size: UInt64
    private var descriptor: Int32

    init(path: String) throws(FileTransferError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .localFile(DownloadFile.errnoText("open", path)) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw .localFile(DownloadFile.errnoText("stat", path))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw .localFile("\(path) is not a regular file")
        }
        size = UInt64(info.st_size)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// The next chunk; nil at the end of the file.
    func next(allocator: ByteBufferAllocator, chunkSize: Int = 64 * 1024) throws(FileTransferError) -> ByteBuffer? {
        var buffer = allocator.buffer(capacity: chunkSize)
        while true {
            var failed = false
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkSize) { raw in
                let count = read(descriptor, raw.baseAddress, raw.count)
                if count < 0 { failed = true }
                return max(0, count)
            }
            if failed {
                if errno == EINTR { continue }
                throw .localFile(DownloadFile.errnoText("read", path))
            }
            return n == 0 ? nil : buffer
        }
    }
}

/// write(2), reachable from types that have a `write` method of their own.
@inline(__always)
func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, bytes, count)
}
