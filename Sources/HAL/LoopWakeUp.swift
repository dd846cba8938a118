#if canImport(Glibc)
import Glibc
#endif
import Locking
import Synchronization

/// What the station loop sleeps on: it blocks in `wait(until:clock:)` until its earliest
/// deadline, or until an input source, the meter poller, a backend request or a signal handler
/// calls `signal()`, whichever comes first.
///
/// A self-pipe: `signal()` writes one byte, `wait` polls the read end with the deadline as
/// timeout and empties it. A pipe rather than an eventfd because Glibc's Swift module does not
/// export eventfd; the behaviour is the same, and `write(2)` on a pipe is async-signal-safe, so
/// SIGTERM's handler can wake the loop (a signal may land on any thread, not the sleeping one).
/// Signals that arrive while the loop is busy are not lost: the byte waits in the pipe and the
/// next `wait` returns at once.
public final class LoopWakeUp: Sendable {
    private let readFD: Int32
    /// The end `signal()` writes; public for a signal handler, which can only reach globals.
    public let writeFD: Int32
    private let signals = Atomic<UInt64>(0)

    public init() throws(HardwareError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw HardwareError(.ioFailed, device: "loop wake-up", "pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes the loop (now, or at once when it next waits). From any thread. A full pipe means
    /// a wake-up is already pending, which is all that matters.
    public func signal() {
        signals.add(1, ordering: .relaxed)
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// How many times `signal()` was called (tests, the loop's statistics).
    public var signalCount: UInt64 { signals.load(ordering: .relaxed) }

    /// Blocks until `deadline` (nil: until signalled) or a signal. Returns true when signalled
    /// (the pending signals are consumed), false when the deadline came first. A deadline that
    /// has passed returns at once, after consuming whatever signal is pending.
    @discardableResult
    public func wait(until deadline: MonotonicInstant?, clock: any EVSEClock) -> Bool {
        var timeoutMs: Int32 = -1
        if let deadline {
            let left = deadline - clock.now()
            // Rounded up: waking before the deadline would only make the loop wait again.
            timeoutMs = left.microseconds <= 0 ? 0 : Int32(clamping: (left.microseconds + 999) / 1_000)
        }
        var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, timeoutMs)
        // EINTR: a signal handler ran; it also wrote to the pipe, which the next wait sees.
        guard n > 0 else { return false }
        return drain()
    }

    /// Consumes pending signals without waiting; true when there were any.
    @discardableResult
    public func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var any = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n > 0 { any = true; continue }
            if n < 0 && errno == EINTR { continue }
            return any
        }
    }
}

/// Handed by a backend to the primitives it opens: they report input changes here, and the
/// backend's owner decides where the report goes (the station loop's `LoopWakeUp`).
public final class InputChangeRelay: Sendable {
    private let target = Mutex<LoopWakeUp?>(nil)
    public init() {}
    public func connect(_ wake: LoopWakeUp) { target.locked { $0 = wake } }
    /// An input changed (a level, an ADC value, an edge, a key) or the link to the inputs was
    /// lost: whoever listens should look at the inputs now.
    public func inputChanged() { target.locked { $0 }?.signal() }
}

/// A backend whose inputs say when they change, so the loop need not poll them.
public protocol InputChangeSignalling: AnyObject, Sendable {
    /// From now on `wake` is signalled, from the backend's reader thread, whenever an input
    /// opened on this backend changes, and when the link to the inputs is lost (quiet must
    /// never look healthy: the loop then reads the inputs and finds them failing).
    func signalInputChanges(to wake: LoopWakeUp)
    /// True when every kind of input this backend opens signals its changes. False where some
    /// are only readable by polling (IIO ADCs on Linux): the loop then samples at the board's
    /// rate.
    var signalsEveryInputChange: Bool { get }
}
