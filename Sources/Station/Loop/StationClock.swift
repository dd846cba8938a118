#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HAL
import Storage
import Locking
import Synchronization

/// The station's wall clock: the time every session, queued message, authorization expiry and
/// charging-profile window is judged by.
///
/// A charger without an RTC battery boots at 1970, and a system clock can be stepped (an
/// operator, NTP, a dying RTC). So this clock is the monotonic clock plus an offset, and the
/// offset is set once, from the first trustworthy time:
/// - the system clock, when it reads a time at or after `trustedFromUnixMs` (at start, or later
///   when NTP sets it), or
/// - the CSMS's `currentTime` (BootNotification and Heartbeat answers), when the system clock
///   has not given one first. Later answers re-align a clock set by the CSMS when they differ
///   by more than `centralSystemTolerance`; a clock set from the system clock only logs them.
/// Until then it reads what the system clock says, and every journal row written meanwhile is
/// stamped with the offset in effect (`stamp()`), so it can be corrected once the time is known.
/// Steps of the system clock after the offset is set (backwards, forwards, to 1970) do not move
/// this clock: durations, expiries and profile windows go on as if nothing happened. A restart
/// takes the system clock's time again.
public final class StationClock: WallClock {
    /// 2024-01-01T00:00:00Z: a time before it was never set (older than any firmware here).
    public static let defaultTrustedFromUnixMs: UInt64 = 1_704_067_200_000
    /// A CSMS time within this of the clock is latency, not a correction.
    public static let centralSystemToleranceMs: Int64 = 2_000

    public enum Source: String, Sendable {
        case unset
        case systemClock = "system clock"
        case centralSystem = "CSMS"
    }

    /// What a CSMS time did to the clock.
    public enum Adoption: Equatable, Sendable {
        /// The clock was unset and now is: the times recorded so far need the correction.
        case set(ClockCorrection)
        /// A clock the CSMS had set moved by this much (times already recorded stay).
        case realigned(byMs: Int64)
        /// Not taken: within the tolerance, a clock set from the system clock, or a time
        /// before the floor. The difference CSMS − station clock, when known.
        case kept(differenceMs: Int64?)
    }

    /// The move from the unset clock to the true time, for the times recorded meanwhile.
    public struct ClockCorrection: Equatable, Sendable {
        /// True wall − monotonic (ms).
        public var wallMinusMonotonicMs: Int64
        /// Wall − monotonic while unset, as the latest reading saw it.
        public var unsetWallMinusMonotonicMs: Int64
        public var source: Source
        /// What to add to a time recorded with the unset clock.
        public var deltaMs: Int64 { wallMinusMonotonicMs - unsetWallMinusMonotonicMs }
    }

    public let system: any WallClock
    public let monotonic: any EVSEClock
    /// The boot the monotonic clock counts from: journal rows of another boot cannot be corrected.
    public let bootId: String
    public let trustedFromUnixMs: UInt64

    private struct State {
        var offsetMs: Int64?
        var source = Source.unset
        var unsetOffsetMs: Int64?
        /// Set when the clock became set on a read of the system clock; the loop applies it.
        var correctionDue: ClockCorrection?
    }
    private let state = Mutex(State())

    public init(system: any WallClock = SystemWallClock(), monotonic: any EVSEClock, bootId: String,
                trustedFromUnixMs: UInt64 = StationClock.defaultTrustedFromUnixMs) {
        self.system = system
        self.monotonic = monotonic
        self.bootId = bootId
        self.trustedFromUnixMs = trustedFromUnixMs
    }

    public func unixMilliseconds() -> UInt64 {
        let mono = monotonicMs()
        return state.locked { s in
            if let offset = s.offsetMs { return Self.unix(mono + offset) }
            let wall = system.unixMilliseconds()
            let offset = Int64(clamping: wall) - mono
            if wall >= trustedFromUnixMs {
                s.offsetMs = offset
                s.source = .systemClock
                if let unset = s.unsetOffsetMs {
                    s.correctionDue = ClockCorrection(wallMinusMonotonicMs: offset, unsetWallMinusMonotonicMs: unset, source: .systemClock)
                }
            } else {
                s.unsetOffsetMs = offset
            }
            return wall
        }
    }

    public var isSet: Bool {
        _ = unixMilliseconds()
        return state.locked { $0.offsetMs != nil }
    }

    public var source: Source {
        _ = unixMilliseconds()
        return state.locked { $0.source }
    }

    /// The journal's stamp for a row written now.
    public func stamp() -> JournalClockStamp {
        let wall = unixMilliseconds()
        let mono = monotonicMs()
        let unset = state.locked { $0.offsetMs == nil }
        return JournalClockStamp(bootId: bootId, monotonicMs: mono, unsetWallOffsetMs: unset ? Int64(clamping: wall) - mono : nil)
    }

    /// A CSMS's `currentTime` (Unix ms), read now.
    public func adoptCentralSystemTime(_ unixMs: UInt64) -> Adoption {
        let wall = unixMilliseconds()  // sets the clock from the system first, if it has a time now
        let mono = monotonicMs()
        let offered = Int64(clamping: unixMs) - mono
        return state.locked { s in
            guard unixMs >= trustedFromUnixMs else {
                return .kept(differenceMs: s.offsetMs.map { _ in Int64(clamping: unixMs) - Int64(clamping: wall) })
            }
            guard let current = s.offsetMs else {
                let unset = s.unsetOffsetMs ?? (Int64(clamping: wall) - mono)
                s.offsetMs = offered
                s.source = .centralSystem
                s.correctionDue = nil
                return .set(ClockCorrection(wallMinusMonotonicMs: offered, unsetWallMinusMonotonicMs: unset, source: .centralSystem))
            }
            let difference = offered - current
            guard s.source == .centralSystem, abs(difference) > Self.centralSystemToleranceMs else {
                return .kept(differenceMs: difference)
            }
            s.offsetMs = offered
            return .realigned(byMs: difference)
        }
    }

    /// The correction owed since the system clock gave the time (NTP), once.
    public func takeCorrectionDue() -> ClockCorrection? {
        _ = unixMilliseconds()
        return state.locked { s in
            defer { s.correctionDue = nil }
            return s.correctionDue
        }
    }

    private func monotonicMs() -> Int64 { Int64(clamping: monotonic.now().microseconds / 1_000) }

    private static func unix(_ ms: Int64) -> UInt64 { UInt64(max(0, ms)) }
}

extension StationClock {
    /// The daemon's clock: the system clock, the kernel's boot id (the monotonic clock counts
    /// from the kernel's boot, so an `evsed` restart without a reboot can still correct what
    /// the previous run recorded).
    ///
    /// Test hook, for the interop tests only: `SWIFTEVSE_TEST_WALL_CLOCK_START=<unix seconds>`
    /// makes the system clock read as if it had been at that time when the process started
    /// (`0`: a charger that boots at 1970). Nothing else reads it.
    public static func forDaemon(monotonic: any EVSEClock) -> StationClock {
        var system: any WallClock = SystemWallClock()
        if let text = getenv("SWIFTEVSE_TEST_WALL_CLOCK_START").map({ String(cString: $0) }), let start = UInt64(text) {
            system = ShiftedWallClock(base: system, startingAtUnixMs: start * 1_000)
        }
        return StationClock(system: system, monotonic: monotonic, bootId: kernelBootId() ?? processBootId())
    }

    /// /proc/sys/kernel/random/boot_id, nil when there is none (not Linux, or no /proc).
    public static func kernelBootId() -> String? {
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).filter { !$0.isWhitespace }
        return text.isEmpty ? nil : text
    }

    /// Without a kernel boot id: one per process (an evsed restart then counts as a new boot).
    static func processBootId() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return "process-\(getpid())-\(ts.tv_sec)-\(ts.tv_nsec)"
    }
}

/// A wall clock that started at a given time when it was made, and runs with `base` from there.
public struct ShiftedWallClock: WallClock {
    public let base: any WallClock
    public let shiftMs: Int64

    public init(base: any WallClock, startingAtUnixMs start: UInt64) {
        self.base = base
        self.shiftMs = Int64(clamping: start) - Int64(clamping: base.unixMilliseconds())
    }

    public func unixMilliseconds() -> UInt64 { UInt64(max(0, Int64(clamping: base.unixMilliseconds()) + shiftMs)) }
}
