import HAL

/// The station's event loop: step the station and serve the backend port, then sleep until the
/// earliest deadline (`LoopDeadlines`) or until something signals the station's `wake` (an
/// input change pushed by the backend, a meter reading, a backend request, a signal handler).
///
/// A pushed pilot or fault change wakes the loop, and the step it wakes for reads the input and
/// opens the contactor before it returns: nothing runs in between. When nothing is due and
/// nothing changes, the thread sleeps in poll(2).
///
/// Runs on one thread (the daemon's main thread); tests call `turn` and `nextWakeUp` with a
/// `VirtualClock` and never sleep.
public final class StationLoop {
    public let station: Station
    public let port: LoopStationPort?
    let clock: any EVSEClock

    /// Counters for the log and the benchmarks: steps taken, and why the loop woke.
    public private(set) var wokenByChange: UInt64 = 0
    public private(set) var wokenByTimer: UInt64 = 0
    /// Turns that only stepped the LEDs (see `turn`).
    public private(set) var ledOnlyTurns: UInt64 = 0

    /// What the last turn armed: a timer wake-up for which only LED steps are due needs
    /// nothing else.
    private var armed: LoopDeadlines?

    public init(station: Station, port: LoopStationPort?, clock: any EVSEClock) {
        self.station = station
        self.port = port
        self.clock = clock
    }

    /// One turn: a step of the station at `now`, the backend requests that arrived, and the
    /// deadlines armed afterwards. `inputsChanged`: the turn was woken by an input change.
    ///
    /// A breathing LED steps its brightness 8 times a second, more often than anything else
    /// while a connector charges. When a timer woke the loop and only LED steps are due, the
    /// turn writes the LEDs and nothing else: no input changed (a change signals the wake), no
    /// other timer is due, so a whole step would find nothing to do.
    @discardableResult
    public func turn(at now: MonotonicInstant, inputsChanged: Bool = false) -> LoopDeadlines {
        if !inputsChanged, let armed, armed.onlyDue(.statusLED, at: now) {
            ledOnlyTurns &+= 1
            let deadlines = armed.replacing(.statusLED, with: station.stepLEDs(at: now))
            self.armed = deadlines
            return deadlines
        }
        station.step(at: now, inputsChanged: inputsChanged)
        port?.serve(at: now)
        var deadlines = station.deadlines(at: now)
        deadlines.add(.backendRequest, at: port?.nextDeadline)
        armed = deadlines
        return deadlines
    }

    /// Turns in a row that found a timer already due.
    private var dueInARow = 0

    /// When to wake for `deadlines` at `now` (nil: only when signalled). A timer that is still
    /// due after two turns at once is a bug in its owner, not a reason to spin: the loop then
    /// waits at least one settle interval (the old fixed-rate loop's pace).
    public func wakeUp(for deadlines: LoopDeadlines, at now: MonotonicInstant) -> MonotonicInstant? {
        guard let at = deadlines.wakeUp(from: now) else { dueInARow = 0; return nil }
        guard at <= now else { dueInARow = 0; return at }
        dueInARow += 1
        return dueInARow > 2 ? now + station.inputSampling.settleInterval : at
    }

    /// Blocks until the earliest of `deadlines` or a wake-up; true when woken by a signal.
    public func sleep(until deadlines: LoopDeadlines) -> Bool {
        let woken = station.wake.wait(until: wakeUp(for: deadlines, at: clock.now()), clock: clock)
        if woken { wokenByChange &+= 1 } else { wokenByTimer &+= 1 }
        return woken
    }
}
