import ChargingCore
import Drivers
import HAL

/// The 1-phase/3-phase relays. A 3-phase connector charges on three phases by default: a 3-phase
/// EV then draws on all of them and a 1-phase EV takes L1 as it would anyway. The relay is set
/// to three in `start`, after the contactors were commanded open and before any session resumes.
///
/// With energy management (a grid meter), a connector goes to one phase when 6 A on three
/// phases is not available but 6 A on one is (`PhaseSwitchDecision`), and back; a charging
/// schedule period with `numberPhases` 1 (OCPP 1.6 ChargingSchedulePeriod, 2.0.1
/// ChargingSchedulePeriodType; 2.0.1 `phaseToUse` is refused, the relay only has L1) puts it on one phase
/// with or without a grid meter. The switch is never made under load:
/// 1. the EV is paused through the pilot (the connector's offer is held at 0 A);
/// 2. the contactor opens (the machine opens it once the EV stopped, within 6 s) and its
///    feedback confirms it;
/// 3. the relay switches (the driver refuses while the contactor is or reads closed);
/// 4. `settleTime` passes;
/// 5. the offer comes back and the machine closes the contactor when the EV asks for energy.
/// A board without the relay does not switch.
extension Station {
    /// The relay's contacts stop bouncing well within this; the EV sees a plain pause.
    static let phaseSwitchSettleTime = EVSEDuration.seconds(Int64(2))
    /// A pause that does not end with an open contactor within this is given up.
    static let phaseSwitchPauseLimit = EVSEDuration.seconds(Int64(15))

    struct PhaseSwitchJob {
        enum Step { case pausing, settling }
        var target: PhaseCount
        var step: Step
        var since: MonotonicInstant
    }

    func selectThreePhases() {
        for c in connectors where c.hw.description.phases == 3 {
            let contactor = c.hw.contactor
            // A board without the relay is wired for three phases already.
            guard let wiring = contactor.phaseSwitchWiring else { continue }
            do {
                try contactor.setPhases(.three)
                logger.info("c\(c.id): phase switch set to 3 phases (line \(wiring.threePhaseLevel.rawValue))")
            } catch {
                let now = contactor.phases.map { "\($0.rawValue) phase(s)" } ?? "unknown phases"
                logger.error("c\(c.id): cannot set the phase switch to 3 phases: \(error); it stays at \(now)")
            }
        }
    }

    /// Whether a connector can change phases at all.
    func canSwitchPhases(_ c: Connector) -> Bool {
        c.hw.description.phases == 3 && c.hw.contactor.hasPhaseSwitch
    }

    /// The grid phases a connector loads now: one (L1) on a 1-phase connector or a relay at one.
    func phaseUse(_ c: Connector) -> AllocationPhaseUse {
        c.hw.description.phases == 1 || c.hw.contactor.phases == .one ? .singlePhase(.l1) : .threePhase
    }

    /// Starts the switches energy management calls for and moves the running ones on; returns the
    /// connectors whose offer must be held at 0 A this round.
    func steerPhaseSwitches(limits: GridLimits?, wanting: [Int], at now: MonotonicInstant) -> Set<Int> {
        var held = Set<Int>()
        let policy = PhaseSwitchPolicy(minimumInterval: config.energy.phaseSwitchInterval,
                                       maximumPerSession: config.energy.phaseSwitchesPerSession)
        for c in connectors where canSwitchPhases(c) {
            // A new session starts with its own count.
            let sessionId = c.machine.session?.id
            if sessionId != c.phaseSwitchSessionId {
                c.phaseSwitchSessionId = sessionId
                c.phaseSwitchesThisSession = 0
            }
            if var job = c.phaseSwitchJob {
                held.insert(c.id)
                switch job.step {
                case .pausing:
                    let open = !c.machine.contactorClosed && c.hw.contactor.status.feedbackClosed != true
                    if open {
                        do {
                            try c.hw.contactor.setPhases(job.target)
                            job.step = .settling
                            job.since = now
                            logger.info("c\(c.id): contactor open, phase switch set to \(job.target.rawValue) phase(s); settling")
                        } catch {
                            logger.error("c\(c.id): phase switch to \(job.target.rawValue) phase(s) failed: \(error); staying on \(c.hw.contactor.phases.map { "\($0.rawValue)" } ?? "?") phase(s)")
                            c.phaseSwitchJob = nil
                            continue
                        }
                    } else if now - job.since >= Self.phaseSwitchPauseLimit {
                        logger.warning("c\(c.id): the contactor did not open within \(Self.phaseSwitchPauseLimit); phase switch given up")
                        c.phaseSwitchJob = nil
                        held.remove(c.id)
                        continue
                    }
                    c.phaseSwitchJob = job
                case .settling:
                    if now - job.since >= Self.phaseSwitchSettleTime {
                        c.phaseSwitchJob = nil
                        held.remove(c.id)
                        logger.notice("c\(c.id): charging on \(job.target.rawValue) phase(s) (switch \(c.phaseSwitchesThisSession) of this session)")
                    }
                }
                continue
            }
            guard wanting.contains(c.id), let current = c.hw.contactor.phases else { continue }
            let scheduled = smartChargingLimit(connector: c.id, session: c.machine.session)?.numberPhases
            let allowed: PhaseCount = scheduled == 1 ? .one : .three
            // This session's share of what is available: the sessions wanting energy split it.
            // Without a usable grid reading only the schedule decides (the fuse then holds the
            // allocator to the board's own sharing, which any phase count fits).
            let n = Double(max(1, wanting.count))
            let capacity: [Double]
            let budget: Double?
            if let limits, limits.problem == nil {
                capacity = limits.phaseCapacityAmps.map { $0 / n }
                budget = limits.powerLimitW.map { $0 / n }
            } else {
                if allowed == .three && current == .three { continue }
                let fuse = hardware.board.grid.maxCurrentAmps / n
                capacity = [fuse, fuse, fuse]
                budget = nil
            }
            // In PV mode with the gate closed there is nothing to switch for.
            if budget == 0 { continue }
            guard let target = PhaseSwitchDecision.target(current: current, capacityAmps: capacity, powerBudgetW: budget,
                                                          lastSwitchAt: c.lastPhaseSwitchAt,
                                                          switchesThisSession: c.phaseSwitchesThisSession,
                                                          policy: policy, allowed: allowed, now: now) else { continue }
            c.phaseSwitchesThisSession += 1
            c.lastPhaseSwitchAt = now
            c.phaseSwitchJob = PhaseSwitchJob(target: target, step: .pausing, since: now)
            held.insert(c.id)
            logger.notice("c\(c.id): switching from \(current.rawValue) to \(target.rawValue) phase(s): pausing the EV")
        }
        return held
    }
}
