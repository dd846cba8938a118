#if canImport(Glibc)
import Glibc
#endif
import HAL

/// A joinable POSIX thread running a Swift closure. The backends need a few long-lived readers
/// (edge events) and must not pull in Foundation's `Thread`.
final class PosixThread: @unchecked Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private var handle = pthread_t()

    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(Body({ PosixThread.nameThisThread(name); body() })).toOpaque()
        let rc = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            throw HardwareError(.ioFailed, device: name, "cannot start a reader thread: \(String(cString: strerror(rc)))")
        }
    }

    func join() { pthread_join(handle, nil) }

    /// Names the calling thread as `top -H` and /proc/PID/task/*/comm show it (the kernel keeps
    /// 15 bytes). Through /proc: Glibc's pthread_setname_np and the variadic prctl are not
    /// visible to Swift.
    static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
    }
}
