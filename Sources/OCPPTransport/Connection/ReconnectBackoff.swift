import HAL

/// Waiting time before each reconnect attempt: exponential from `minimum`, doubled
/// `doublings` times at most and capped at `maximum`, plus a random jitter in
/// `0...randomRange` (OCPP 2.0.1 RetryBackOffWaitMinimum / RetryBackOffRepeatTimes /
/// RetryBackOffRandomRange semantics), so a fleet does not reconnect in lockstep.
public struct ReconnectBackoff: Sendable, Hashable {
    public var minimum: EVSEDuration
    public var maximum: EVSEDuration
    public var doublings: Int
    public var randomRange: EVSEDuration

    public init(minimum: EVSEDuration = .seconds(Int64(3)), maximum: EVSEDuration = .seconds(Int64(300)),
                doublings: Int = 8, randomRange: EVSEDuration = .seconds(Int64(2))) {
        self.minimum = EVSEDuration(microseconds: max(0, minimum.microseconds))
        self.maximum = EVSEDuration(microseconds: max(self.minimum.microseconds, maximum.microseconds))
        self.doublings = max(0, doublings)
        self.randomRange = EVSEDuration(microseconds: max(0, randomRange.microseconds))
    }

    /// The wait before reconnect attempt number `failures` (1 = after the first failure);
    /// `jitter` in 0...1 picks the point in the random range.
    public func delay(afterFailures failures: Int, jitter: Double) -> EVSEDuration {
        let steps = min(max(0, failures - 1), doublings, 40)
        var base = minimum.microseconds
        for _ in 0..<steps where base < maximum.microseconds {
            base = base > Int64.max / 2 ? Int64.max : base * 2
        }
        base = min(base, maximum.microseconds)
        let clampedJitter = jitter.isFinite ? min(max(jitter, 0), 1) : 0
        let extra = Int64((Double(randomRange.microseconds) * clampedJitter).rounded())
        return EVSEDuration(microseconds: base + extra)
    }
}
