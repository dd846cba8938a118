extension Session {
    /// Moves every time of the session taken from a wall clock that was not yet set (those
    /// before `floorMs`: a charger without an RTC battery boots at 1970) by `deltaMs`, once the
    /// station knows the true time. Times at or after the floor were right and stay.
    public mutating func correctTimes(recordedBeforeMs floorMs: UInt64, byMs deltaMs: Int64) {
        func fix(_ t: UInt64) -> UInt64 { Session.corrected(t, floorMs: floorMs, deltaMs: deltaMs) }
        startedAtUnixMs = fix(startedAtUnixMs)
        stoppedAtUnixMs = stoppedAtUnixMs.map(fix)
        for i in sampledValues.indices { sampledValues[i].atUnixMs = fix(sampledValues[i].atUnixMs) }
        for i in suspendedPeriods.indices {
            suspendedPeriods[i].fromUnixMs = fix(suspendedPeriods[i].fromUnixMs)
            suspendedPeriods[i].toUnixMs = suspendedPeriods[i].toUnixMs.map(fix)
        }
    }

    /// `t` moved by `deltaMs` when it lies before `floorMs`, never below zero.
    public static func corrected(_ t: UInt64, floorMs: UInt64, deltaMs: Int64) -> UInt64 {
        guard t < floorMs else { return t }
        let moved = Int64(clamping: t).addingReportingOverflow(deltaMs)
        return moved.overflow ? t : UInt64(max(0, moved.partialValue))
    }
}
