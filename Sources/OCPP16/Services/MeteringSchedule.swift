/// When meter values fall due (Core profile, "Metering Data"): sampled ones every
/// MeterValueSampleInterval seconds, clock-aligned ones at every ClockAlignedDataInterval
/// boundary of the wall clock counted from midnight UTC (an interval of 900 gives :00, :15, :30
/// and :45 of every hour). The charge point ticks it once a second; a changed interval applies
/// from the next tick.
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

    /// One second has passed; `unixMs` is the wall clock now.
    public mutating func tick(sampleInterval: Int, alignedInterval: Int, unixMs: UInt64) -> Due {
        var due = Due(sampled: false, alignedAtUnixMs: nil)
        secondsSinceSample += 1
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
