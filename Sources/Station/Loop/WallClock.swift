#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HAL

/// Wall-clock time (Unix milliseconds) for session timestamps. Only bookkeeping reads it;
/// every timing rule runs on the monotonic `EVSEClock`.
public protocol WallClock: Sendable {
    func unixMilliseconds() -> UInt64
}

/// CLOCK_REALTIME.
public struct SystemWallClock: WallClock {
    public init() {}
    public func unixMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) * 1_000 + UInt64(max(0, ts.tv_nsec)) / 1_000_000
    }
}

/// A wall clock that follows a monotonic clock from a fixed Unix time (tests: a VirtualClock
/// drives both, so session timestamps move with the simulated time).
public struct FollowingWallClock: WallClock {
    public let monotonic: any EVSEClock
    public let unixMsAtZero: UInt64
    public init(following monotonic: any EVSEClock, unixMsAtZero: UInt64 = 1_767_225_600_000) {
        self.monotonic = monotonic
        self.unixMsAtZero = unixMsAtZero
    }
    public func unixMilliseconds() -> UInt64 { unixMsAtZero + monotonic.now().microseconds / 1_000 }
}

/// `20261205T073500Z`: a UTC time as a file-name suffix (sortable, no colons).
public func fileNameStamp(unixMilliseconds: UInt64) -> String {
    var seconds = time_t(unixMilliseconds / 1_000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
}
