#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The station database's files are private to the daemon's user: they hold card UIDs (personal
/// data) and the charger's whole history. SQLite creates a new file with the process's umask
/// (0644 under the usual 022 outside the systemd unit), so the file is created here first, with
/// 0600, before SQLite opens it. SQLite gives the -wal and -shm it creates later the main
/// file's permissions; those an earlier version left beside a 0644 file are fixed here too.
enum DatabaseFiles {
    static let mode: mode_t = 0o600
    /// SQLite's companion files: the write-ahead log, its shared-memory index, a rollback journal.
    static let companionSuffixes = ["-wal", "-shm", "-journal"]

    /// Whether `path` names a file on disk (not an in-memory or temporary database; URIs are
    /// not enabled, so any other name is a file name).
    static func isFile(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:"
    }

    /// Creates `path` if it is missing and forces it and its existing companions to 0600.
    static func makePrivate(_ path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("open", path) }
        defer { close(descriptor) }
        // open() applies the umask only to a file it creates; an existing one keeps its mode.
        guard fchmod(descriptor, mode) == 0 else { throw failure("fchmod", path) }
        try restrictCompanions(of: path)
    }

    /// Forces the companions of `path` that exist to 0600.
    static func restrictCompanions(of path: String) throws {
        for suffix in companionSuffixes {
            let companion = path + suffix
            var info = stat()
            guard lstat(companion, &info) == 0 else {
                if errno == ENOENT { continue }
                throw failure("stat", companion)
            }
            guard info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 != mode else { continue }
            guard chmod(companion, mode) == 0 else { throw failure("chmod", companion) }
        }
    }

    /// Renames `path` and its companions to `<path>.damaged-<stamp>` (+ the same suffixes):
    /// the data stays on disk for whoever can recover it. Returns the new name of the main file.
    static func moveAside(_ path: String, stamp: String) throws -> String {
        let target = "\(path).damaged-\(stamp)"
        for suffix in [""] + companionSuffixes {
            guard rename(path + suffix, target + suffix) == 0 || errno == ENOENT else {
                throw failure("rename to \(target + suffix)", path + suffix)
            }
        }
        return target
    }

    private static func failure(_ operation: String, _ path: String) -> StorageError {
        .fileAccess(path: path, operation: operation, reason: String(cString: strerror(errno)))
    }
}
