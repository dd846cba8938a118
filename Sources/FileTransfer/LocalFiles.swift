#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Local files and directories around the transfers (firmware images, archives before their upload).
public enum LocalFiles {
    /// Creates `path` and missing parents (mode 0700 for the last one: images and archives are
    /// the station's business).
    public static func ensureDirectory(_ path: String) throws(FileTransferError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = path.hasPrefix("/") ? "" : "."
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            if mkdir(prefix, index == components.count - 1 ? 0o700 : 0o755) != 0, errno != EEXIST {
                throw .localFile(DownloadFile.errnoText("mkdir", prefix))
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .localFile("\(path) is not a directory")
        }
    }

    /// Writes a whole (small) file, synced, mode 0600.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileTransferError) {
        let file = try DownloadFile(path: path)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try file.write(buffer)
        try file.commit()
    }
}
