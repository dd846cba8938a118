#if canImport(Glibc)
import Glibc
#endif
import HAL

/// Kernel event timestamps → `MonotonicInstant`.
///
/// GPIO v1 line events are stamped on CLOCK_MONOTONIC since Linux 5.7 and on CLOCK_REALTIME
/// before; evdev stamps on CLOCK_REALTIME unless asked (EVIOCSCLOCKID) for CLOCK_MONOTONIC. A
/// realtime stamp is decades past the monotonic clock (which starts at boot), so a stamp far
/// ahead of monotonic "now" is taken as realtime and moved onto the monotonic clock.
enum KernelTimestamp {
    /// Stamps this far ahead of monotonic now cannot be monotonic (an event is never stamped in
    /// the future); a day is far above any scheduling delay and far below 1970→now.
    static let realtimeThresholdMicroseconds: UInt64 = 86_400 * 1_000_000

    static func monotonic(seconds: Int, nanoseconds: Int,
                          monotonicNow: UInt64 = clockMicroseconds(CLOCK_MONOTONIC),
                          realtimeNow: UInt64 = clockMicroseconds(CLOCK_REALTIME)) -> MonotonicInstant {
        let stamp = UInt64(max(0, seconds)) &* 1_000_000 &+ UInt64(max(0, nanoseconds)) / 1_000
        return monotonic(microseconds: stamp, monotonicNow: monotonicNow, realtimeNow: realtimeNow)
    }

    static func monotonic(microseconds stamp: UInt64, monotonicNow: UInt64, realtimeNow: UInt64) -> MonotonicInstant {
        guard stamp > monotonicNow &+ realtimeThresholdMicroseconds else {
            return MonotonicInstant(microseconds: stamp)
        }
        // Realtime stamp: keep its age relative to realtime now.
        let age = realtimeNow > stamp ? realtimeNow - stamp : 0
        return MonotonicInstant(microseconds: monotonicNow > age ? monotonicNow - age : 0)
    }

    static func clockMicroseconds(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1_000
    }
}
