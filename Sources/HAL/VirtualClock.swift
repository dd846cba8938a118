import Locking
import Synchronization

/// A clock that only moves when told to. Tests drive drivers and the core through time with
/// it instead of sleeping.
public final class VirtualClock: EVSEClock {
    private let current: Mutex<MonotonicInstant>

    public init(start: MonotonicInstant = MonotonicInstant(microseconds: 1_000_000)) {
        current = Mutex(start)
    }

    public func now() -> MonotonicInstant { current.locked { $0 } }

    /// Moves time forward and returns the new instant.
    @discardableResult
    public func advance(by d: EVSEDuration) -> MonotonicInstant {
        precondition(d.microseconds >= 0, "a monotonic clock never goes back")
        return current.locked { $0 = $0 + d; return $0 }
    }

    public func set(_ instant: MonotonicInstant) {
        current.locked { $0 = instant }
    }
}
