import Dispatch
import HAL
import Synchronization

/// What the poller hands to the firmware. Every failed read is reported (`.fault` with
/// `.readFailed`, then `.offline` on each read while the meter stays silent).
public enum MeterPollerEvent: Equatable, Sendable {
    case sample(MeterReadout)
    case fault(MeterFault, at: MonotonicInstant)
    /// The first good read after the meter was offline.
    case recovered(at: MonotonicInstant)
}

/// Reads a meter on a schedule on its own serial dispatch queue, so the bus's blocking
/// requests (up to the response timeout each) never hold up the charging logic. The meter is
/// handed over at init and from then on only touched on that queue.
public final class MeterPoller: Sendable {
    public let interval: EVSEDuration
    private let meter: Mutex<EnergyMeter>
    private let clock: any EVSEClock
    private let onEvent: @Sendable (MeterPollerEvent) -> Void
    private let queue: DispatchQueue
    private let state = Mutex(State())

    private struct State {
        var timer: (any DispatchSourceTimer)?
        var stopped = false
    }

    public init(meter: sending EnergyMeter, interval: EVSEDuration, clock: any EVSEClock,
                onEvent: @escaping @Sendable (MeterPollerEvent) -> Void) {
        self.queue = DispatchQueue(label: "swiftevse.meter.\(meter.bus.name).\(meter.unit)")
        self.meter = Mutex(meter)
        self.interval = EVSEDuration(microseconds: max(1_000, interval.microseconds))
        self.clock = clock
        self.onEvent = onEvent
    }

    /// A poller whose events arrive as an AsyncStream; ending the stream's iteration stops it.
    public static func stream(meter: sending EnergyMeter, interval: EVSEDuration,
                              clock: any EVSEClock) -> (MeterPoller, AsyncStream<MeterPollerEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: MeterPollerEvent.self,
                                                            bufferingPolicy: .bufferingNewest(64))
        let poller = MeterPoller(meter: meter, interval: interval, clock: clock) { continuation.yield($0) }
        continuation.onTermination = { _ in poller.stop() }
        return (poller, stream)
    }

    /// Starts polling: a first read right away, then one every `interval`. Returns at once.
    public func start() {
        state.withLock { s in
            guard s.timer == nil, !s.stopped else { return }
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now(), repeating: .microseconds(Int(interval.microseconds)),
                           leeway: .milliseconds(10))
            timer.setEventHandler { [weak self] in self?.pollOnce() }
            timer.resume()
            s.timer = timer
        }
    }

    /// Stops polling. Returns at once, also when called from the event callback. A read in
    /// progress finishes on the poller's queue and its result is dropped; only a read that had
    /// already passed that check may still deliver its one event.
    public func stop() {
        let timer: (any DispatchSourceTimer)? = state.withLock { s in
            s.stopped = true
            defer { s.timer = nil }
            return s.timer
        }
        timer?.cancel()
    }

    public var isStopped: Bool { state.withLock { $0.stopped } }

    /// Queues one extra read (e.g. right before a transaction starts). Returns at once.
    public func requestRead() {
        queue.async { [weak self] in self?.pollOnce() }
    }

    private func pollOnce() {
        guard !isStopped else { return }
        let now = clock.now()
        let (wasOffline, result) = meter.withLock { m in
            (m.isOffline, Result { () throws(MeterFault) in try m.read(at: now) })
        }
        guard !isStopped else { return }
        switch result {
        case let .success(sample):
            if wasOffline { onEvent(.recovered(at: now)) }
            onEvent(.sample(sample))
        case let .failure(fault):
            onEvent(.fault(fault, at: now))
        }
    }
}
