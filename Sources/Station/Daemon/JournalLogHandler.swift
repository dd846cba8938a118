#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Locking
import Synchronization

/// swift-log handler writing one line per event to stderr with the `<N>` syslog priority prefix
/// journald understands (`SyslogLevelPrefix=`); outside journald the prefix is still readable.
/// Metadata follows as `key=value`; newlines in a message are escaped to keep one line per event.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    /// Where the lines are also kept for the diagnostics archive.
    public let recent: RecentLogLines?

    public init(label: String, level: Logger.Level = .info, recent: RecentLogLines? = nil) {
        self.label = label
        self.logLevel = level
        self.recent = recent
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public static func format(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "<\(priority(level))>\(label): \(message)"
        if !metadata.isEmpty {
            line += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return line.replacingNewlines() + "\n"
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        let text = Self.format(level: event.level, label: label, message: event.message.description, metadata: all)
        // One write per line: lines of concurrent loggers never interleave.
        _ = text.utf8CString.withUnsafeBufferPointer { buf in
            Glibc.write(STDERR_FILENO, buf.baseAddress, buf.count - 1)
        }
        recent?.append(String(text.dropLast()))
    }
}

/// The daemon's most recent log lines with their wall-clock time, in memory, for the
/// diagnostics archive a CSMS asks for (GetDiagnostics, GetLog): journald keeps the full
/// history, this is what the station can send without it. At most `maxLines` lines and
/// `maxBytes` bytes; the oldest go first. The defaults are a few hours of an idle station at
/// the info level, and keep the ring inside the daemon's 20 MB memory budget when full.
public final class RecentLogLines: Sendable {
    public let maxLines: Int
    public let maxBytes: Int
    private let state = Mutex<(lines: [(unixMs: UInt64, line: String)], bytes: Int)>(([], 0))

    public init(maxLines: Int = 2_000, maxBytes: Int = 256 << 10) {
        self.maxLines = max(1, maxLines)
        self.maxBytes = max(1_024, maxBytes)
    }

    public func append(_ line: String, atUnixMs: UInt64? = nil) {
        let at = atUnixMs ?? Self.now()
        let size = line.utf8.count
        state.locked { s in
            s.lines.append((at, line))
            s.bytes += size
            guard s.lines.count > maxLines || s.bytes > maxBytes else { return }
            // Down to 3/4 of both limits at once: the array is copied once per many lines, not per line.
            var drop = 0
            var bytes = s.bytes
            while drop < s.lines.count - 1, s.lines.count - drop > maxLines * 3 / 4 || bytes > maxBytes * 3 / 4 {
                bytes -= s.lines[drop].line.utf8.count
                drop += 1
            }
            s.lines.removeFirst(drop)
            s.bytes = bytes
        }
    }

    /// Oldest first.
    public func lines() -> [(unixMs: UInt64, line: String)] { state.locked { $0.lines } }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) * 1_000 + UInt64(max(0, ts.tv_nsec)) / 1_000_000
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        guard contains(where: { $0 == "\n" || $0 == "\r" }) else { return self }
        var out = ""
        for c in self {
            switch c {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }
}
