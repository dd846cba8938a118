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
        let context = Unmanaged.passRetained(Body({ nameThisThread(name); body() })).toOpaque()
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
}
