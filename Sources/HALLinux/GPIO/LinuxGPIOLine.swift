#if canImport(Glibc)
import Glibc
#endif
import HAL
import Locking
import Synchronization

/// A requested GPIO line plus, for lines with edge detection, a reader thread that moves the
/// kernel's events into a queue the drivers drain.
///
/// Why a thread: the kernel's per-line event FIFO (v1 uAPI) holds only 16 events. A Wiegand
/// frame is 26–34 edges, so a caller that drains every few milliseconds could see the FIFO
/// overflow between two drains when it is busy; the reader blocks in poll() on the line's event
/// descriptor and empties the FIFO as events arrive, keeping the kernel timestamps.
final class LinuxGPIOLine: GPIOLine {
    /// Events kept when nobody drains (a stuck caller); older ones are dropped first.
    static let queueLimit = 8_192

    let address: GPIOLineAddress
    private let requested: any RequestedGPIOLine
    private let isOutput: Bool

    fileprivate struct State {
        var events: [GPIOEdgeEvent] = []
        var dropped = 0
        var readerFailure: HardwareError?
        var closed = false
    }
    /// Shared with the reader thread.
    fileprivate final class SharedState: Sendable {
        let mutex = Mutex(State())
    }
    private let shared = SharedState()
    private let reader: PosixThread?
    /// Written to wake the reader out of poll() on close.
    private let wakeWriteFD: Int32

    /// `inputChanges` hears of every batch of edges the reader takes in, and of the reader's end.
    init(address: GPIOLineAddress, requested: any RequestedGPIOLine, isOutput: Bool,
         inputChanges: InputChangeRelay = InputChangeRelay()) throws {
        self.address = address
        self.requested = requested
        self.isOutput = isOutput
        guard let eventFD = requested.eventFileDescriptor else {
            reader = nil
            wakeWriteFD = -1
            return
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let e = errno
            requested.release()
            throw hardwareError(errno: e, device: requested.description, doing: "create the reader's wake pipe")
        }
        wakeWriteFD = fds[1]
        let wakeReadFD = fds[0]
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let shared = self.shared
        do {
            reader = try PosixThread(name: "gpio-edges") {
                Self.pump(line: requested, eventFD: eventFD, wakeFD: wakeReadFD, into: shared, inputChanges: inputChanges)
                Glibc.close(wakeReadFD)
            }
        } catch {
            Glibc.close(fds[0])
            Glibc.close(fds[1])
            requested.release()
            throw error
        }
    }

    private static func pump(line: any RequestedGPIOLine, eventFD: Int32, wakeFD: Int32, into shared: SharedState,
                             inputChanges: InputChangeRelay) {
        let state = shared
        // A reader that stops (an error, the line closed) makes the loop look at the line: its
        // next drain reports the failure instead of silence.
        defer { inputChanges.inputChanged() }
        var fds = [pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                state.mutex.locked { $0.readerFailure = hardwareError(errno: e, device: line.description, doing: "wait for edge events") }
                return
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) != 0 {
                do {
                    let events = try line.readEvents()
                    state.mutex.locked { s in
                        s.events.append(contentsOf: events)
                        if s.events.count > queueLimit {
                            let extra = s.events.count - queueLimit
                            s.events.removeFirst(extra)
                            s.dropped += extra
                        }
                    }
                    inputChanges.inputChanged()
                } catch let error as HardwareError {
                    state.mutex.locked { $0.readerFailure = error }
                    return
                } catch {
                    return
                }
            } else if fds[0].revents != 0 {
                state.mutex.locked {
                    $0.readerFailure = HardwareError(.ioFailed, device: line.description, "edge event descriptor reported an error")
                }
                return
            }
        }
    }

    private func checkOpen() throws {
        if shared.mutex.locked({ $0.closed }) {
            throw HardwareError(.invalidArgument, device: requested.description, "line was closed")
        }
    }

    func read() throws -> Bool {
        try checkOpen()
        return try requested.getValue()
    }

    func write(_ active: Bool) throws {
        try checkOpen()
        guard isOutput else {
            throw HardwareError(.invalidArgument, device: requested.description, "write to a line requested as input")
        }
        try requested.setValue(active)
    }

    func drainEdgeEvents() throws -> [GPIOEdgeEvent] {
        try shared.mutex.locked { s in
            if s.closed { throw HardwareError(.invalidArgument, device: requested.description, "line was closed") }
            if s.events.isEmpty, let failure = s.readerFailure { throw failure }
            if s.dropped > 0 {
                let dropped = s.dropped
                s.dropped = 0
                s.events.removeAll()
                throw HardwareError(.ioFailed, device: requested.description,
                                    "\(dropped) edge events dropped: nobody drained the queue")
            }
            defer { s.events.removeAll(keepingCapacity: true) }
            return s.events
        }
    }

    func close() {
        let wasOpen = shared.mutex.locked { s in
            defer { s.closed = true }
            return !s.closed
        }
        guard wasOpen else { return }
        if let reader {
            var one: UInt8 = 1
            _ = Glibc.write(wakeWriteFD, &one, 1)
            reader.join()
            Glibc.close(wakeWriteFD)
        }
        requested.release()
    }

    deinit { close() }
}
