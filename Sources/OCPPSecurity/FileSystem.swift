#if canImport(Glibc)
import SmallFiles
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file operation under the security data directory failed; `reason` is strerror(errno).
public struct SecurityFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let reason: String

    public var description: String { "\(operation) \(path): \(reason)" }

    static func fromErrno(_ operation: String, _ path: String) -> SecurityFileError {
        let code = errno
        return SecurityFileError(operation: operation, path: path, reason: String(cString: strerror(code)))
    }
}

/// Plain POSIX file helpers: keys and certificates are small, written atomically (temp file +
/// rename) with an explicit mode so a crash never leaves a half-written key behind.
enum SecurityFiles {
    /// Creates `path` (and missing parents with mode 0755) and forces `path` itself to `mode`.
    static func ensureDirectory(_ path: String, mode: mode_t) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = path.hasPrefix("/") ? "" : "."
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            let isTarget = index == components.count - 1
            if mkdir(prefix, isTarget ? mode : 0o755) != 0, errno != EEXIST {
                throw SecurityFileError.fromErrno("mkdir", prefix)
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SecurityFileError.fromErrno("stat", path) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SecurityFileError(operation: "mkdir", path: path, reason: "exists and is not a directory")
        }
        if info.st_mode & 0o7777 != mode, chmod(path, mode) != 0 {
            throw SecurityFileError.fromErrno("chmod", path)
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw SecurityFileError.fromErrno("open", temporary) }
        var closed = false
        defer {
            if !closed { close(descriptor) }
        }
        // open() honours the umask; the mode must be exact whatever the daemon's umask is.
        guard fchmod(descriptor, mode) == 0 else {
            let error = SecurityFileError.fromErrno("fchmod", temporary)
            unlink(temporary)
            throw error
        }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = SecurityFileError.fromErrno("write", temporary)
                unlink(temporary)
                throw error
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let error = SecurityFileError.fromErrno("fsync", temporary)
            unlink(temporary)
            throw error
        }
        closed = true
        guard close(descriptor) == 0 else {
            let error = SecurityFileError.fromErrno("close", temporary)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = SecurityFileError.fromErrno("rename", path)
            unlink(temporary)
            throw error
        }
        // The rename is durable only once the directory entry is on disk: without this a power
        // cut right after could bring back the previous file (or none).
        syncDirectory(of: path)
    }

    /// fsync of the directory holding `path`; best effort (some file systems refuse it).
    static func syncDirectory(of path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// Forces an existing file to `mode` (files an earlier version left with the umask's mode);
    /// nothing when it does not exist.
    static func restrict(_ path: String, mode: mode_t) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw SecurityFileError.fromErrno("stat", path)
        }
        guard info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 != mode else { return }
        guard chmod(path, mode) == 0 else { throw SecurityFileError.fromErrno("chmod", path) }
    }

    /// Reads a whole small file; `limit` keeps a corrupt or hostile file from exhausting memory.
    static func readAll(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        do throws(SmallFile.ReadError) { return try SmallFile.read(path, limit: limit) } catch {
            throw SecurityFileError(operation: "read", path: path, reason: error.reason)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT { throw SecurityFileError.fromErrno("unlink", path) }
    }

    static func move(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else { throw SecurityFileError.fromErrno("rename", source) }
    }

    /// Names of the regular entries in `path`, sorted so listings are stable.
    static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw SecurityFileError.fromErrno("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted()
    }
}
