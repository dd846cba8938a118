#if canImport(Glibc)
import Glibc
#endif
import Logging
import Station
import Testing

@Suite("sd_notify and journal logging")
struct DaemonSupportTests {
    /// Binds a datagram socket at `path` (abstract when it starts with "@") and returns its fd.
    func listen(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        #expect(rc == 0)
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    func receive(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
    }

    @Test func readyAndWatchdogReachAPathSocket() {
        let path = "/tmp/station-notify-\(getpid())"
        unlink(path)
        let fd = listen(path)
        defer { close(fd); unlink(path) }
        let n = SystemdNotifier(socketPath: path)
        #expect(n.isActive)
        n.ready(status: "up")
        #expect(receive(fd) == "READY=1\nSTATUS=up")
        n.watchdog()
        #expect(receive(fd) == "WATCHDOG=1")
    }

    @Test func abstractSocketNamesWork() {
        let name = "@station-notify-\(getpid())"
        let fd = listen(name)
        defer { close(fd) }
        #expect(SystemdNotifier(socketPath: name).send("STOPPING=1"))
        #expect(receive(fd) == "STOPPING=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let n = SystemdNotifier(socketPath: nil)
        #expect(!n.isActive)
        #expect(!n.send("READY=1"))
    }

    @Test func logLinesCarryTheSyslogPriorityOnOneLine() {
        let line = JournalLogHandler.format(level: .critical, label: "station", message: "c1: RCD\ntripped",
                                            metadata: ["b": "2", "a": "1"])
        #expect(line == "<2>station: c1: RCD\\ntripped a=1 b=2\n")
        #expect(JournalLogHandler.priority(.info) == 6)
        #expect(JournalLogHandler.priority(.warning) == 4)
        #expect(JournalLogHandler.priority(.debug) == 7)
    }
}
