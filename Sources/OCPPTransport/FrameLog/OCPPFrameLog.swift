#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import OCPPJSON
import Locking
import Synchronization

/// Field-debugging log of every OCPP frame, both directions, with wall-clock timestamps.
/// Rotates at `maxFileBytes` keeping `fileCount` files (`frames.log`, `frames.log.1`, …).
/// Secrets never reach it: AuthorizationKey / BasicAuthPassword values are redacted, and the
/// HTTP handshake (with its Authorization header) is never logged.
public final class OCPPFrameLog: Sendable {
    public enum Direction: String, Sendable {
        case outbound = ">>"
        case inbound = "<<"
    }

    public let path: String
    public let maxFileBytes: Int
    public let fileCount: Int
    private let state = Mutex<(fd: Int32, size: Int)>((-1, 0))
    private let wallClock: @Sendable () -> (seconds: Int64, nanoseconds: Int64)

    /// The frames carry card UIDs (personal data) and the CSMS's requests: the log and its
    /// rotations are the daemon user's alone.
    public static let fileMode: mode_t = 0o600

    /// Keys whose values are secrets, in any configuration message of either version.
    public static let secretKeys: Set<String> = ["authorizationkey", "basicauthpassword"]

    public init(path: String, maxFileBytes: Int = 1 << 20, fileCount: Int = 5,
                wallClock: (@Sendable () -> (seconds: Int64, nanoseconds: Int64))? = nil) {
        self.path = path
        self.maxFileBytes = max(1024, maxFileBytes)
        self.fileCount = max(1, fileCount)
        self.wallClock = wallClock ?? {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
        }
        restrictExistingFiles()
    }

    /// The log and every rotation of it an earlier version left (with the umask's mode, or more
    /// of them than `fileCount` keeps now) become 0600. Best effort, as all of the log is.
    func restrictExistingFiles() {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let entryName = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            let suffix = entryName.hasPrefix(name) ? entryName.dropFirst(name.count) : nil
            guard let suffix, suffix.isEmpty || (suffix.first == "." && suffix.dropFirst().allSatisfy(\.isNumber) && suffix.count > 1)
            else { continue }
            let file = directory + "/" + entryName
            var info = stat()
            guard lstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 != Self.fileMode else { continue }
            _ = chmod(file, Self.fileMode)
        }
    }

    deinit {
        state.locked { s in if s.fd >= 0 { close(s.fd) } }
    }

    /// Appends one frame; logging failures are swallowed (the log must never stop OCPP).
    public func record(_ direction: Direction, _ text: String) {
        let (seconds, nanoseconds) = wallClock()
        let line = Self.timestamp(seconds: seconds, nanoseconds: nanoseconds) + " " + direction.rawValue + " "
            + Self.scrubbed(text).replacingNewlines() + "\n"
        let bytes = Array(line.utf8)
        state.locked { s in
            if s.fd < 0 { openFile(&s) }
            if s.fd >= 0, s.size > 0, s.size + bytes.count > maxFileBytes {
                rotate(&s)
            }
            guard s.fd >= 0 else { return }
            let written = bytes.withUnsafeBytes { write(s.fd, $0.baseAddress, $0.count) }
            if written > 0 { s.size += written }
        }
    }

    private func openFile(_ s: inout (fd: Int32, size: Int)) {
        s.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, Self.fileMode)
        guard s.fd >= 0 else { return }
        // Exact whatever the umask, and a file an earlier version left 0644 is made private.
        _ = fchmod(s.fd, Self.fileMode)
        var info = stat()
        s.size = fstat(s.fd, &info) == 0 ? Int(info.st_size) : 0
    }

    private func rotate(_ s: inout (fd: Int32, size: Int)) {
        close(s.fd)
        s.fd = -1
        if fileCount == 1 {
            unlink(path)
        } else {
            unlink("\(path).\(fileCount - 1)")
            var index = fileCount - 2
            while index >= 1 {
                rename("\(path).\(index)", "\(path).\(index + 1)")
                index -= 1
            }
            rename(path, "\(path).1")
        }
        openFile(&s)
    }

    /// The frame with secret values replaced by "***": secret configuration values, and the
    /// passwords of URLs (a GetDiagnostics location `ftp://user:password@…`). Text that is not
    /// a frame is kept only if it cannot contain a secret key name.
    public static func scrubbed(_ text: String) -> String {
        let text = URLPassword.redacted(in: text)
        guard text.lowercased().contains("authorizationkey") || text.lowercased().contains("basicauthpassword") else {
            return text
        }
        guard let value = try? JSONParser.parse(Array(text.utf8)) else {
            return "[unparsable frame naming a secret key, \(text.utf8.count) bytes, redacted]"
        }
        return JSONWriter.writeString(redact(value))
    }

    /// Any object naming a secret key in "key" (1.6 ChangeConfiguration, GetConfiguration
    /// answers) or "name" (2.0.1 variables) loses its "value"/"attributeValue"; a member
    /// itself named like a secret key loses its value.
    static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(redact))
        case .object(let object):
            // 2.0.1 names the variable one level down: {"attributeValue": …, "variable": {"name": …}}.
            let nested = object.values.compactMap { $0.objectValue }
            let namesSecret = ([object] + nested).contains { candidate in
                [candidate["key"], candidate["name"]].contains { entry in
                    entry?.stringValue.map { secretKeys.contains($0.lowercased()) } ?? false
                }
            }
            var members: [(String, JSONValue)] = []
            for (key, member) in object.members {
                if secretKeys.contains(key.lowercased()) || (namesSecret && (key == "value" || key == "attributeValue")) {
                    members.append((key, .string("***")))
                } else {
                    members.append((key, redact(member)))
                }
            }
            return .object(JSONObject(members))
        default:
            return value
        }
    }

    /// ISO 8601 UTC with milliseconds.
    static func timestamp(seconds: Int64, nanoseconds: Int64) -> String {
        RFC3339.string(unixSeconds: seconds, milliseconds: Int(nanoseconds / 1_000_000))
    }
}

extension String {
    /// One frame per log line, whatever the frame contains.
    fileprivate func replacingNewlines() -> String {
        guard contains(where: { $0 == "\n" || $0 == "\r" }) else { return self }
        return String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
