#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import HAL
import NIOPosix
import Synchronization

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
        let timeout = timeout
        let timedOut = TimeoutFlag()
        let stopper = Task {
            try? await Task.sleep(for: .microseconds(timeout.microseconds))
            guard !Task.isCancelled else { return }
            timedOut.value.withLock { $0 = true }
            kill(child, SIGTERM)
            try? await Task.sleep(for: .seconds(5))
            guard !Task.isCancelled else { return }
            kill(child, SIGKILL)
        }
        defer { stopper.cancel() }
        // waitpid blocks: on NIO's thread pool, not on a task's thread.
        let status: Int32
        do {
            status = try await NIOThreadPool.singleton.runIfActive {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 {
                    if errno != EINTR { return Int32(-1) }
                }
                return status
            }
        } catch {
            return .failed("cannot wait for the installer: \(error)")
        }
        if status == -1 { return .failed("cannot wait for the installer: \(String(cString: strerror(errno)))") }
        let signal = status & 0x7f
        if signal != 0 {
            return .failed("the installer was killed by signal \(signal)\(timedOut.value.withLock { $0 } ? " after running longer than \(timeout)" : "")")
        }
        let code = (status >> 8) & 0xff
        return code == 0 ? .installed : .failed("the installer exited with status \(code)")
    }
}

private final class TimeoutFlag: Sendable {
    let value = Mutex(false)
}
