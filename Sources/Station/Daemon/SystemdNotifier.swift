#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sd_notify protocol without libsystemd: one datagram per state change to the unix socket
/// systemd names in `$NOTIFY_SOCKET` (a leading `@` means the abstract namespace).
/// Without the variable (not started by systemd) every call does nothing.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?

    public init(socketPath: String? = SystemdNotifier.environment("NOTIFY_SOCKET")) {
        self.socketPath = (socketPath?.isEmpty ?? true) ? nil : socketPath
    }

    public var isActive: Bool { socketPath != nil }

    /// `WATCHDOG_USEC` halved: how often to send `WATCHDOG=1` (nil when no watchdog is set).
    public static func watchdogInterval() -> Int64? {
        guard let text = environment("WATCHDOG_USEC"), let usec = Int64(text), usec > 0 else { return nil }
        if let pid = environment("WATCHDOG_PID"), let p = Int32(pid), p != getpid() { return nil }
        return usec / 2
    }

    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    public func ready(status: String? = nil) { send("READY=1" + (status.map { "\nSTATUS=\($0)" } ?? "")) }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1") }
    public func status(_ text: String) { send("STATUS=\(text)") }

    /// Sends `message`; false when there is no socket or the send failed (never fatal: the
    /// daemon runs the same whether systemd listens or not).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        // Abstract names are not NUL-terminated: the address length says where they end.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, length) }
            }
        }
        return sent == payload.count
    }
}
