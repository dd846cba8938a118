import Drivers

/// The 1-phase/3-phase relays. A 3-phase connector charges on three phases: a 3-phase EV then
/// draws on all of them and a 1-phase EV takes L1 as it would anyway. The relay is set once, in
/// `start`, after the contactors were commanded open and before any session resumes, because
/// switching it under load would arc; the driver refuses while the contactor is (or reads) closed.
extension Station {
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
}
