import Drivers
import HAL

/// When a connector with a 1-phase/3-phase relay should change phases.
///
/// Three phases by default. One phase when 6 A on three phases is not available but 6 A on one
/// is (a low PV surplus: 1.4 kW instead of 4.1 kW; a house load that leaves less than 6 A on a
/// phase other than L1). Back to three once 6 A on three phases is available again with a
/// margin (`upgradeMarginW`), so a surplus hovering at 4.1 kW does not flip the relay. Never
/// more often than `minimumInterval`, never more than `maximumPerSession` times in a session.
/// The decision only; the station carries out the switch (pause, contactor open and confirmed,
/// relay, settle, resume).
public struct PhaseSwitchPolicy: Hashable, Sendable {
    public var minimumAmps: Double
    public var minimumInterval: EVSEDuration
    public var maximumPerSession: Int
    /// Extra surplus needed to go from one phase back to three, W.
    public var upgradeMarginW: Double
    public var nominalPhaseVoltage: Double

    public init(minimumAmps: Double = 6, minimumInterval: EVSEDuration = .seconds(Int64(300)), maximumPerSession: Int = 10,
                upgradeMarginW: Double = 460, nominalPhaseVoltage: Double = ChargingLimit.nominalPhaseVoltage) {
        self.minimumAmps = minimumAmps
        self.minimumInterval = minimumInterval
        self.maximumPerSession = maximumPerSession
        self.upgradeMarginW = upgradeMarginW
        self.nominalPhaseVoltage = nominalPhaseVoltage
    }
}

public enum PhaseSwitchDecision {
    /// The phases the connector should charge on, or nil to stay where it is.
    /// - `current`: where the relay is now.
    /// - `capacityAmps`: what this session may have per phase (L1, L2, L3) under the fuse.
    /// - `powerBudgetW`: what it may draw in total (PV modes), nil: no budget.
    /// - `lastSwitchAt`, `switchesThisSession`: the connector's history.
    /// - `allowed`: `.one` when a charging schedule's period says `numberPhases` 1 (the CSMS
    ///   wants one phase whatever is available).
    public static func target(current: PhaseCount, capacityAmps: [Double], powerBudgetW: Double?,
                              lastSwitchAt: MonotonicInstant?, switchesThisSession: Int,
                              policy: PhaseSwitchPolicy, allowed: PhaseCount = .three,
                              now: MonotonicInstant) -> PhaseCount? {
        guard capacityAmps.count == 3, capacityAmps.allSatisfy({ $0.isFinite }) else { return nil }
        if let last = lastSwitchAt, now - last < policy.minimumInterval { return nil }
        if switchesThisSession >= policy.maximumPerSession { return nil }
        let minimum = policy.minimumAmps
        let v = policy.nominalPhaseVoltage
        let budget = powerBudgetW.map { $0.isFinite ? $0 : 0 }
        let upgradeMargin = current == .one ? policy.upgradeMarginW : 0
        let threeFits = allowed == .three && capacityAmps.allSatisfy { $0 >= minimum }
            && (budget.map { $0 >= 3 * minimum * v + upgradeMargin } ?? true)
        let oneFits = capacityAmps[0] >= minimum && (budget.map { $0 >= minimum * v } ?? true)
        let wanted: PhaseCount
        if threeFits { wanted = .three } else if oneFits || allowed == .one { wanted = .one } else { return nil }
        return wanted == current ? nil : wanted
    }
}
