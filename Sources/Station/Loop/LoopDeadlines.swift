import HAL

/// Every timer of the station loop in one queue: each part of the station that has something
/// to do at a given instant reports it here, and the loop sleeps until the earliest one (or
/// until an input change wakes it). Nothing is due and nothing changes: the loop sleeps.
///
/// Rebuilt after every step (a handful of entries): the timers live with their owners (the
/// connector machines, the LED, the allocator, the storage probe…), so nothing here can drift
/// from what those owners will actually do at their next step.
public struct LoopDeadlines: Sendable, Equatable, CustomStringConvertible {
    /// Who wants the loop to step at an instant (named so a log line or a test can say why
    /// the loop woke).
    public enum Timer: String, Sendable, Hashable, CaseIterable {
        /// A connector state machine's own deadline (`ConnectorStateMachine.nextDeadline()`:
        /// connection timeout, EV-stop wait, final meter reading, reservation expiry…).
        case connectorMachine = "connector machine"
        /// An input is settling (pilot debounce, contactor feedback after a command, a fault
        /// input's debounce, a lock pulse, an RCD self-test): sampled at the busy rate until it did.
        case inputSettling = "input settling"
        /// A backend whose inputs cannot signal changes (IIO ADCs): sampled at the board's rate;
        /// also a failing input, read again until it answers (a lost simulator link reconnects).
        case inputSampling = "input sampling"
        /// A status LED's next blink or brightness step.
        case statusLED = "status LED"
        /// The display's next refresh (its messages rotate, its clock moves).
        case display
        /// The next power allocation round (paced PWM increases, PV decisions, profile limits,
        /// a phase switch's relay settling).
        case allocation
        /// The next write probe of a faulted journal.
        case storageProbe = "storage probe"
        /// The next pruning of the session history.
        case historyPrune = "history prune"
        /// A backend request waiting on the loop (an unlock waiting for its lock).
        case backendRequest = "backend request"
        /// The systemd watchdog ping.
        case watchdog
    }

    public private(set) var entries: [(timer: Timer, at: MonotonicInstant)] = []

    public init() {}

    /// Adds `timer` at `instant`; nil (the timer is not armed) adds nothing.
    public mutating func add(_ timer: Timer, at instant: MonotonicInstant?) {
        guard let instant else { return }
        entries.append((timer, instant))
    }

    /// The earliest entry; nil when no timer is armed (the loop then sleeps until woken).
    /// On a tie, the first one added.
    public var earliest: (timer: Timer, at: MonotonicInstant)? {
        var best: (timer: Timer, at: MonotonicInstant)?
        for e in entries where best.map({ e.at < $0.at }) ?? true { best = e }
        return best
    }

    /// The instant the loop sleeps until from `now`: the earliest entry, but never before `now`
    /// and never later than `now + longest` (nil: no limit).
    public func wakeUp(from now: MonotonicInstant, longest: EVSEDuration? = nil) -> MonotonicInstant? {
        let cap = longest.map { now + $0 }
        guard let at = earliest?.at else { return cap }
        let due = max(at, now)
        return cap.map { min($0, due) } ?? due
    }

    /// The sleep from `now` (zero when something is already due; nil: until woken).
    public func sleep(from now: MonotonicInstant, longest: EVSEDuration? = nil) -> EVSEDuration? {
        wakeUp(from: now, longest: longest).map { $0 - now }
    }

    /// True when something is due at `now` and all of it is `timer`.
    public func onlyDue(_ timer: Timer, at now: MonotonicInstant) -> Bool {
        var any = false
        for e in entries where e.at <= now {
            guard e.timer == timer else { return false }
            any = true
        }
        return any
    }

    /// The same deadlines with every entry of `timer` replaced by `instants`.
    public func replacing(_ timer: Timer, with instants: [MonotonicInstant]) -> LoopDeadlines {
        var d = LoopDeadlines()
        d.entries = entries.filter { $0.timer != timer } + instants.map { (timer, $0) }
        return d
    }

    /// The deadlines of one timer, in the order added.
    public func instants(of timer: Timer) -> [MonotonicInstant] { entries.filter { $0.timer == timer }.map(\.at) }

    public static func == (a: Self, b: Self) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.timer == $1.timer && $0.at == $1.at }
    }

    public var description: String {
        entries.sorted { $0.at < $1.at }.map { "\($0.timer.rawValue)@\($0.at)" }.joined(separator: ", ")
    }
}
