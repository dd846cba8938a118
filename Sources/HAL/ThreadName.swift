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
