import HAL
import Locking
import Synchronization

/// What the poller hands to the firmware. Every failed read is reported (`.fault` with
/// `.readFailed`, then `.offline` on each read while the meter stays silent).
public enum MeterPollerEvent: Equatable, Sendable {
    case sample(MeterReadout)
    case fault(MeterFault, at: MonotonicInstant)
    /// The first good read after the meter was offline.
    case recovered(at: MonotonicInstant)
}

/// Reads a meter on a schedule on the process's one meter thread (`meter-poll`), so the bus's
/// blocking requests (up to the response timeout each) never hold up the charging logic. The
/// meter is handed over at init and from then on only touched on that thread.
///
/// One thread for every meter rather than a dispatch queue each: the reads of meters on one
/// RS-485 line are serial anyway, the thread is named for `top -H`, and it sleeps until the
/// next poll is due instead of waking a dispatch timer per meter.
///
/// Two paces: `interval` while the connector is in use, `idleInterval` while it is idle
/// (`setIdle`): nothing flows through an open contactor, so an idle meter's register does not
/// move, and its reads were most of an idle station's CPU. A failed read always brings the next
/// one back to `interval`, so a meter that goes silent while idle is still found out within a
/// few of the busy periods after the first failed read.
public final class MeterPoller: Sendable {
    public let interval: EVSEDuration
    public let idleInterval: EVSEDuration
    private let meter: Mutex<EnergyMeter>
    private let clock: any EVSEClock
    private let onEvent: @Sendable (MeterPollerEvent) -> Void
    private let stopped = Atomic<Bool>(false)
    private let idle = Atomic<Bool>(false)
    private let lastReadFailed = Atomic<Bool>(false)

    /// `idleInterval`: the pace while idle; nil or shorter than `interval` means `interval`.
    public init(meter: sending EnergyMeter, interval: EVSEDuration, idleInterval: EVSEDuration? = nil,
                clock: any EVSEClock, onEvent: @escaping @Sendable (MeterPollerEvent) -> Void) {
        self.meter = Mutex(meter)
        self.interval = EVSEDuration(microseconds: max(1_000, interval.microseconds))
        self.idleInterval = EVSEDuration(microseconds: max(self.interval.microseconds, idleInterval?.microseconds ?? 0))
        self.clock = clock
        self.onEvent = onEvent
    }

    /// A poller whose events arrive as an AsyncStream; ending the stream's iteration stops it.
    public static func stream(meter: sending EnergyMeter, interval: EVSEDuration, idleInterval: EVSEDuration? = nil,
                              clock: any EVSEClock) -> (MeterPoller, AsyncStream<MeterPollerEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: MeterPollerEvent.self,
                                                            bufferingPolicy: .bufferingNewest(64))
        let poller = MeterPoller(meter: meter, interval: interval, idleInterval: idleInterval, clock: clock) { continuation.yield($0) }
        continuation.onTermination = { _ in poller.stop() }
        return (poller, stream)
    }

    /// Starts polling: a first read right away, then one every `interval` (on a grid shared by
    /// every meter of that period). Returns at once.
    public func start() {
        guard !isStopped else { return }
        schedule(repeating: true)
    }

    /// Stops polling. Returns at once, also when called from the event callback. A read in
    /// progress finishes on the meter thread and its result is dropped; only a read that had
    /// already passed that check may still deliver its one event.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        if case let .success(thread) = MeterPollingThread.shared { thread.remove(self) }
    }

    public var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Queues one extra read (e.g. right before a transaction starts). Returns at once.
    public func requestRead() {
        guard !isStopped else { return }
        schedule(repeating: false)
    }

    public var isIdle: Bool { idle.load(ordering: .relaxed) }

    /// Idle: reads every `idleInterval` from the next periodic read on. In use again: one read
    /// at once (the EV just arrived: a fresh register for the session's start), then every
    /// `interval`. Returns at once; a call that changes nothing does nothing.
    public func setIdle(_ isIdle: Bool) {
        guard idle.exchange(isIdle, ordering: .relaxed) != isIdle, !isIdle, !isStopped else { return }
        if case let .success(thread) = MeterPollingThread.shared { thread.hurry(self, readNow: true) }
    }

    /// The period from one periodic read to the next, decided when a read is taken.
    var period: EVSEDuration {
        isIdle && !lastReadFailed.load(ordering: .relaxed) ? idleInterval : interval
    }

    private func schedule(repeating: Bool) {
        switch MeterPollingThread.shared {
        case let .success(thread): thread.add(self, repeating: repeating)
        case let .failure(error): onEvent(.fault(.readFailed(error), at: clock.now()))
        }
    }

    /// On the meter thread.
    fileprivate func pollOnce() {
        guard !isStopped else { return }
        let now = clock.now()
        let (wasOffline, result) = meter.locked { m in
            (m.isOffline, Result { () throws(MeterFault) in try m.read(at: now) })
        }
        guard !isStopped else { return }
        switch result {
        case let .success(sample):
            lastReadFailed.store(false, ordering: .relaxed)
            if wasOffline { onEvent(.recovered(at: now)) }
            onEvent(.sample(sample))
        case let .failure(fault):
            // The next read was planned at the idle pace before this one; a silent meter must
            // not stay unnoticed for that long.
            if !lastReadFailed.exchange(true, ordering: .relaxed), isIdle, idleInterval > interval,
               case let .success(thread) = MeterPollingThread.shared {
                thread.hurry(self, readNow: false)
            }
            onEvent(.fault(fault, at: now))
        }
    }
}

/// The one thread that reads every meter: it sleeps until the earliest poll is due (or a
/// poller is added or asks for a read) and reads the due meters one after the other. Started
/// with the first poller; it lives as long as the process.
final class MeterPollingThread: Sendable {
    static let shared: Result<MeterPollingThread, HardwareError> = Result { () throws(HardwareError) in
        let scheduler = try MeterPollingThread()
        try scheduler.startThread()
        return scheduler
    }

    private struct Entry {
        let poller: MeterPoller
        /// Repeating: the next periodic read. Nil for a poller that was only asked for one read.
        var nextDue: MonotonicInstant?
        var readRequested: Bool
    }
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    private let wake: LoopWakeUp
    /// Polls are scheduled on the real monotonic clock; the pollers stamp their readings with
    /// their own.
    private let clock = SystemMonotonicClock()
    /// Where every period's grid starts (`nextOnGrid`).
    private let epoch: MonotonicInstant

    private init() throws(HardwareError) {
        wake = try LoopWakeUp()
        epoch = clock.now()
    }

    /// The thread starts with the first use of `shared`; it holds the scheduler for good.
    private func startThread() throws(HardwareError) {
        try startDetachedThread(name: "meter-poll") { [self] in run() }
    }

    func add(_ poller: MeterPoller, repeating: Bool) {
        entries.locked { e in
            let id = ObjectIdentifier(poller)
            var entry = e[id] ?? Entry(poller: poller, nextDue: nil, readRequested: false)
            if repeating {
                if entry.nextDue == nil { entry.nextDue = clock.now() }
            } else {
                entry.readRequested = true
            }
            e[id] = entry
        }
        wake.signal()
    }

    /// A poller back at its busy pace (`readNow`: with one read at once): its next periodic
    /// read moves forward to the busy period's next instant, when that is earlier than the
    /// read already planned.
    func hurry(_ poller: MeterPoller, readNow: Bool) {
        let next = nextOnGrid(after: clock.now(), period: poller.interval)
        let moved = entries.locked { e -> Bool in
            let id = ObjectIdentifier(poller)
            guard var entry = e[id], let planned = entry.nextDue else { return false }
            entry.nextDue = min(planned, next)
            if readNow { entry.readRequested = true }
            e[id] = entry
            return true
        }
        if moved { wake.signal() }
    }

    /// The first instant after `now` on the grid of `period` from this thread's start. Meters
    /// with the same period fall due together and are read back to back, however each got to
    /// its pace: energy management takes a charger's reading and the grid meter's as one
    /// moment only when they were read close together.
    private func nextOnGrid(after now: MonotonicInstant, period: EVSEDuration) -> MonotonicInstant {
        Self.nextOnGrid(after: now, period: period, from: epoch)
    }

    static func nextOnGrid(after now: MonotonicInstant, period: EVSEDuration, from epoch: MonotonicInstant) -> MonotonicInstant {
        let p = max(1, period.microseconds)
        let elapsed = max(0, (now - epoch).microseconds)
        return epoch + EVSEDuration(microseconds: (elapsed / p + 1) * p)
    }

    func remove(_ poller: MeterPoller) {
        _ = entries.locked { $0.removeValue(forKey: ObjectIdentifier(poller)) }
    }

    private func run() {
        while true {
            let now = clock.now()
            // Take the due ones and move their next read on, before reading (a read may take
            // the bus's whole response timeout).
            let (due, next) = entries.locked { e -> ([MeterPoller], MonotonicInstant?) in
                var due: [MeterPoller] = []
                var next: MonotonicInstant?
                for (id, var entry) in e {
                    var read = entry.readRequested
                    entry.readRequested = false
                    if let at = entry.nextDue, at <= now {
                        read = true
                        // Missed periods are skipped, not caught up with a burst of reads.
                        entry.nextDue = nextOnGrid(after: now, period: entry.poller.period)
                    }
                    if read { due.append(entry.poller) }
                    if entry.nextDue == nil {
                        e.removeValue(forKey: id)
                    } else {
                        e[id] = entry
                        if let at = entry.nextDue, next.map({ at < $0 }) ?? true { next = at }
                    }
                }
                return (due, next)
            }
            for poller in due { poller.pollOnce() }
            // After reads, look again at once (time passed, a read may have been asked for).
            if due.isEmpty { wake.wait(until: next, clock: clock) }
        }
    }
}
