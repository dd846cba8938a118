/// One clock abstraction for the whole firmware.
///
/// Time is a monotonic count of microseconds (CLOCK_MONOTONIC on Linux). The kernel stamps
/// GPIO edge events on the same clock, and the simulator stamps its events on it too, so an
/// instant taken in one process can be compared with one taken in another on the same host.
/// Drivers never read the clock themselves: they are handed `now` (or timestamped inputs) by
/// whoever drives them, so a test can walk them through time with a `VirtualClock`.
public struct MonotonicInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: UInt64

    public init(microseconds: UInt64) { self.microseconds = microseconds }

    public static let zero = MonotonicInstant(microseconds: 0)

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }

    public static func + (a: Self, d: EVSEDuration) -> Self {
        let v = Int64(clamping: a.microseconds) + d.microseconds
        return MonotonicInstant(microseconds: UInt64(max(0, v)))
    }

    public static func - (a: Self, d: EVSEDuration) -> Self { a + EVSEDuration(microseconds: -d.microseconds) }

    /// Time elapsed from `earlier` to `self` (negative when `earlier` is later).
    public static func - (a: Self, b: Self) -> EVSEDuration {
        EVSEDuration(microseconds: Int64(clamping: a.microseconds) - Int64(clamping: b.microseconds))
    }

    public var description: String { "\(microseconds)µs" }
}

/// A signed span of time in microseconds.
public struct EVSEDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func microseconds(_ v: Int64) -> Self { .init(microseconds: v) }
    public static func milliseconds(_ v: Int64) -> Self { .init(microseconds: v * 1_000) }
    public static func seconds(_ v: Int64) -> Self { .init(microseconds: v * 1_000_000) }
    public static func seconds(_ v: Double) -> Self { .init(microseconds: Int64((v * 1_000_000).rounded())) }
    public static let zero = EVSEDuration(microseconds: 0)

    public var seconds: Double { Double(microseconds) / 1_000_000 }
    public var milliseconds: Double { Double(microseconds) / 1_000 }

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }
    public static func + (a: Self, b: Self) -> Self { .init(microseconds: a.microseconds + b.microseconds) }
    public static func - (a: Self, b: Self) -> Self { .init(microseconds: a.microseconds - b.microseconds) }
    public static func * (a: Self, k: Int64) -> Self { .init(microseconds: a.microseconds * k) }

    public var description: String {
        microseconds % 1_000 == 0 ? "\(microseconds / 1_000)ms" : "\(microseconds)µs"
    }
}

/// Where "now" comes from.
public protocol EVSEClock: Sendable {
    func now() -> MonotonicInstant
}
