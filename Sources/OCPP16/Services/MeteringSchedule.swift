/// When meter values fall due (Core profile, "Metering Data"): sampled ones every
/// MeterValueSampleInterval seconds, clock-aligned ones at every ClockAlignedDataInterval
/// boundary of the wall clock counted from midnight UTC (an interval of 900 gives :00, :15, :30
/// and :45 of every hour). The charge point sleeps until `secondsUntilDue` says something may be
/// due and then ticks it with the seconds that passed; a changed interval restarts that sleep.
public struct MeteringSchedule: Sendable {
    private var secondsSinceSample = 0
    /// The aligned slot the wall clock was in at the last tick (day, slot of the day).
    private var alignedSlot: (day: Int64, slot: Int64)?

    public struct Due: Sendable, Equatable {
        public var sampled: Bool
        /// The boundary that was crossed (unix ms), when one was.
        public var alignedAtUnixMs: UInt64?
    }

    public init() {}

    /// The longest the charge point sleeps between two ticks, whatever is due: a wall clock
    /// that was set meanwhile is noticed within this.
    public static let longestSleepSeconds = 60

    /// Whole seconds from now until a sample or an aligned boundary may be due (at least 1, at
    /// most `longestSleepSeconds`, and no later than `otherDueInSeconds`).
    public func secondsUntilDue(sampleInterval: Int, alignedInterval: Int, unixMs: UInt64,
                                otherDueInSeconds: Int? = nil) -> Int {
        var wait = Self.longestSleepSeconds
        if sampleInterval > 0 { wait = min(wait, sampleInterval - secondsSinceSample) }
        if alignedInterval > 0 {
            // The first tick only learns where the clock is: it must come before the boundary.
            guard alignedSlot != nil else { return 1 }
            let secondOfDay = Int(unixMs / 1_000 % 86_400)
            let nextBoundary = min((secondOfDay / alignedInterval + 1) * alignedInterval, 86_400)
            wait = min(wait, nextBoundary - secondOfDay)
        }
        if let other = otherDueInSeconds { wait = min(wait, other) }
        return max(1, wait)
    }

    /// `seconds` have passed since the last tick (1 when ticked every second); `unixMs` is the
    /// wall clock now.
    public mutating func tick(seconds: Int = 1, sampleInterval: Int, alignedInterval: Int, unixMs: UInt64) -> Due {
        var due = Due(sampled: false, alignedAtUnixMs: nil)
        secondsSinceSample += max(1, seconds)
        if sampleInterval > 0, secondsSinceSample >= sampleInterval {
            secondsSinceSample = 0
            due.sampled = true
        }
        guard alignedInterval > 0 else {
            alignedSlot = nil
            return due
        }
        let seconds = Int64(unixMs / 1_000)
        let day = seconds / 86_400
        let slot = (seconds % 86_400) / Int64(alignedInterval)
        // The first tick only learns where the clock is: a boundary is a crossing, not a start.
        // A clock set backwards is a new position too, not a crossing.
        if let last = alignedSlot, (day, slot) > last {
            due.alignedAtUnixMs = UInt64(day * 86_400 + slot * Int64(alignedInterval)) * 1_000
        }
        alignedSlot = (day, slot)
        return due
    }
}
