#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import HAL
import NIOPosix

/// How an installation ended.
public enum FirmwareInstallOutcome: Sendable, Hashable {
    /// Installed; it takes effect when the daemon restarts.
    case installed
    case failed(String)
}

/// Puts a downloaded firmware image in place. The firmware service decides when (no session
/// running, connectors unavailable); this only installs.
public protocol FirmwareInstalling: Sendable {
    func install(firmwareAt path: String) async -> FirmwareInstallOutcome
}

/// The station file's `firmware.installer`: an executable run with the image's path as its only
/// argument; exit status 0 means installed. Its output goes to the daemon's stderr (journald).
/// One that runs longer than `timeout` is stopped (SIGTERM, then SIGKILL) and counts as failed.
public struct CommandFirmwareInstaller: FirmwareInstalling {
    public let executable: String
    public let timeout: EVSEDuration

    public init(executable: String, timeout: EVSEDuration = .seconds(Int64(1_800))) {
        self.executable = executable
        self.timeout = timeout
    }

    public func install(firmwareAt path: String) async -> FirmwareInstallOutcome {
        var pid: pid_t = 0
        var arguments: [UnsafeMutablePointer<CChar>?] = [strdup(executable), strdup(path), nil]
        defer { for a in arguments { free(a) } }
        // The child starts with default signal handling and nothing blocked: the daemon ignores
        // SIGPIPE and its threads may block signals, neither of which an installer expects.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var spawned = posix_spawn(&pid, executable, nil, &attributes, &arguments, environ)
        // A script written just now may still be open for writing in a process being forked
        // elsewhere; that passes in a moment.
        for _ in 0..<20 where spawned == ETXTBSY {
            try? await Task.sleep(for: .milliseconds(50))
            spawned = posix_spawn(&pid, executable, nil, &attributes, &arguments, environ)
        }
        guard spawned == 0 else {
            return .failed("cannot run the installer \(executable): \(String(cString: strerror(spawned)))")
        }
        let child = pid
        let limit = Duration.microseconds(timeout.microseconds)
        // The wait and the timeout both run on NIO's blocking pool, not as a task that sleeps:
        // when every thread of the task pool is busy, a sleeping task wakes late, and an installer
        // that hangs for longer than that would run to its end unstopped. The child is polled
        // (10 ms at first, then at most every 250 ms): an installation runs once per update.
        let waited: (status: Int32, timedOut: Bool, waitError: Int32)
        do {
            waited = try await NIOThreadPool.singleton.runIfActive {
                let started = ContinuousClock.now
                var status: Int32 = 0
                var nap = Duration.milliseconds(10)
                var terminatedAt: ContinuousClock.Instant?
                var killed = false
                while true {
                    let r = waitpid(child, &status, WNOHANG)
                    if r == child { return (status, terminatedAt != nil, 0) }
                    if r < 0 && errno != EINTR { return (-1, terminatedAt != nil, errno) }
                    let now = ContinuousClock.now
                    if terminatedAt == nil, now - started >= limit {
                        kill(child, SIGTERM)
                        terminatedAt = now
                    } else if let t = terminatedAt, !killed, now - t >= .seconds(5) {
                        kill(child, SIGKILL)
                        killed = true
                    }
                    var pause = timespec(tv_sec: 0, tv_nsec: Int(nap.components.attoseconds / 1_000_000_000))
                    _ = nanosleep(&pause, nil)
                    nap = min(nap * 2, .milliseconds(250))
                }
            }
        } catch {
            return .failed("cannot wait for the installer: \(error)")
        }
        let status = waited.status
        if waited.waitError != 0 { return .failed("cannot wait for the installer: \(String(cString: strerror(waited.waitError)))") }
        let signal = status & 0x7f
        if signal != 0 {
            return .failed("the installer was killed by signal \(signal)\(waited.timedOut ? " after running longer than \(timeout)" : "")")
        }
        let code = (status >> 8) & 0xff
        return code == 0 ? .installed : .failed("the installer exited with status \(code)")
    }
}
