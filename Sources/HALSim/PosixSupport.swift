#if canImport(Glibc)
import Glibc
#endif
import HAL

/// Where a request's answer arrives: the caller waits on it (bounded), the reader thread fills
/// it. A pthread condition on CLOCK_MONOTONIC so a wall-clock jump cannot stretch a timeout.
final class ReplySlot: @unchecked Sendable {
    enum Outcome: Sendable {
        case ok([String])
        case err(String)
        case lost(String)
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var outcome: Outcome?

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func fill(_ value: Outcome) {
        pthread_mutex_lock(mutex)
        if outcome == nil {
            outcome = value
            pthread_cond_signal(condition)
        }
        pthread_mutex_unlock(mutex)
    }

    /// nil when nothing arrived within `timeout`.
    func wait(timeout: EVSEDuration) -> Outcome? {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let total = Int64(deadline.tv_nsec) + max(0, timeout.microseconds) * 1_000
        deadline.tv_sec += Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_mutex_lock(mutex)
        while outcome == nil {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
        }
        let result = outcome
        pthread_mutex_unlock(mutex)
        return result
    }
}

func monotonicMicroseconds() -> UInt64 { SystemMonotonicClock().now().microseconds }
