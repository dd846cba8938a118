import HAL

/// Paces the current limits signalled on the control pilot.
///
/// IEC 61851-1 (Annex A) gives the EV up to 5 s to follow a new PWM duty cycle, and SAE J1772
/// the same; EVs are not built for a pilot that changes every few hundred milliseconds. What
/// this limiter implements:
/// - Reductions (including to 0 A) are signalled at once: a lower limit is always safe to
///   signal, and a limit may only be enforced early, never late.
/// - An increase on a connector waits until `minimumChangeInterval` (5 s) has passed since that
///   connector's previous change, so the EV sees at most one change per 5 s in normal operation.
/// - An increase anywhere also waits until `reductionSettleTime` (5 s) has passed since the last
///   reduction on any connector: the current another EV gives up is only really free once that
///   EV has had its 5 s to follow, so the grid limit holds during the hand-over too.
/// While held, a connector keeps its previous (lower) value, so the signalled sum never exceeds
/// the allocated sum. The caller asks again at `nextChangeAllowedAt`.
public struct PWMChangeRateLimiter: Hashable, Sendable {
    public struct Signal: Hashable, Sendable {
        public var connectorId: Int
        /// What to put on the pilot now, A.
        public var amps: Double
        /// What the allocator wanted.
        public var targetAmps: Double
        /// When the held increase may be signalled; `nil` when `amps == targetAmps`.
        public var nextChangeAllowedAt: MonotonicInstant?
    }

    public var minimumChangeInterval: EVSEDuration
    public var reductionSettleTime: EVSEDuration
    public private(set) var signalled: [Int: Double] = [:]
    private var lastChange: [Int: MonotonicInstant] = [:]
    private var lastReduction: MonotonicInstant?

    public init(minimumChangeInterval: EVSEDuration = .seconds(Int64(5)),
                reductionSettleTime: EVSEDuration = .seconds(Int64(5))) {
        self.minimumChangeInterval = minimumChangeInterval
        self.reductionSettleTime = reductionSettleTime
    }

    /// Feeds one allocation round (connector → A). Connectors not named keep their value.
    public mutating func apply(targets: [(connectorId: Int, amps: Double)], now: MonotonicInstant) -> [Signal] {
        var out: [Int: Signal] = [:]
        // Reductions first, so increases in the same round see them.
        for t in targets {
            let target = t.amps.isFinite ? max(0, t.amps) : 0
            let current = signalled[t.connectorId]
            if let current, target < current {
                signalled[t.connectorId] = target
                lastChange[t.connectorId] = now
                lastReduction = now
                out[t.connectorId] = Signal(connectorId: t.connectorId, amps: target, targetAmps: target, nextChangeAllowedAt: nil)
            }
        }
        for t in targets where out[t.connectorId] == nil {
            let target = t.amps.isFinite ? max(0, t.amps) : 0
            let current = signalled[t.connectorId] ?? 0
            if target == current && signalled[t.connectorId] != nil {
                out[t.connectorId] = Signal(connectorId: t.connectorId, amps: current, targetAmps: target, nextChangeAllowedAt: nil)
                continue
            }
            var allowedAt = now
            if let last = lastChange[t.connectorId] { allowedAt = max(allowedAt, last + minimumChangeInterval) }
            if let red = lastReduction { allowedAt = max(allowedAt, red + reductionSettleTime) }
            if allowedAt <= now {
                signalled[t.connectorId] = target
                lastChange[t.connectorId] = now
                out[t.connectorId] = Signal(connectorId: t.connectorId, amps: target, targetAmps: target, nextChangeAllowedAt: nil)
            } else {
                signalled[t.connectorId] = current
                out[t.connectorId] = Signal(connectorId: t.connectorId, amps: current, targetAmps: target, nextChangeAllowedAt: allowedAt)
            }
        }
        return targets.compactMap { out[$0.connectorId] }
    }

    /// Convenience for a whole allocation result.
    public mutating func apply(_ result: AllocationResult, now: MonotonicInstant) -> [Signal] {
        apply(targets: result.connectors.map { (connectorId: $0.connectorId, amps: $0.amps) }, now: now)
    }
}
