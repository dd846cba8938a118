#if canImport(Glibc)
import Glibc
#endif

/// Names the calling thread as `top -H` and /proc/PID/task/*/comm show it (the kernel keeps 15
/// bytes). Through /proc: Glibc's pthread_setname_np and the variadic prctl are not visible to
/// Swift. The backends' reader threads call it first thing.
public func nameThisThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
}

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a detached POSIX thread named `name` running `body` (no Foundation `Thread` in the
/// firmware). For the few long-lived workers the firmware has, each with its own name.
public func startDetachedThread(name: String, _ body: @escaping @Sendable () -> Void) throws(HardwareError) {
    let context = Unmanaged.passRetained(ThreadBody({ nameThisThread(name); body() })).toOpaque()
    var handle = pthread_t()
    let rc = pthread_create(&handle, nil, { raw in
        guard let raw else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().run()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw HardwareError(.ioFailed, device: "thread \(name)", "cannot start: \(String(cString: strerror(rc)))")
    }
    pthread_detach(handle)
}
