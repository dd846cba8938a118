import BoardAssembly
import Drivers
import HAL

/// When the loop must step next (`LoopDeadlines`), besides an input change waking it.
extension Station {
    /// How the loop samples inputs that cannot say when they change.
    public struct InputSampling: Sendable, Equatable {
        /// The sampling interval while an input settles (pilot debounce, contactor feedback after
        /// a command, a fault input's debounce, a lock pulse, a card being read). `--loop-interval-ms`.
        public var settleInterval: EVSEDuration = .milliseconds(1)
        /// A polled board without `pilot.sample_rate_hz`: the interval while nothing is plugged in
        /// (`--idle-interval-ms`); while a connector is busy it samples every `settleInterval`.
        public var idleInterval: EVSEDuration = .milliseconds(50)
        /// The board's `pilot.sample_rate_hz` as an interval (the fastest connector's): a polled
        /// board is sampled at this rate, busy or not.
        public var boardInterval: EVSEDuration?
        /// The backend signals every input change (the simulator, the fake backend): no
        /// periodic sampling at all.
        public var inputsSignalChanges = false
        /// An input that cannot be read is read again this often until it answers (a lost
        /// simulator link is reconnected by that read).
        public var failingInputRetry: EVSEDuration = .milliseconds(250)
        public init() {}
    }

    /// The display is refreshed this often when nothing else changes (its messages rotate by the
    /// second); a change shows at the next step, at most every `displayMinimumInterval`.
    static let displayRefreshInterval = EVSEDuration.seconds(Int64(1))
    static let displayMinimumInterval = EVSEDuration.milliseconds(250)

    /// Every timer that is armed after a step: the loop steps again at the earliest of them,
    /// or earlier when an input changes.
    public func deadlines(at now: MonotonicInstant) -> LoopDeadlines {
        var d = LoopDeadlines()
        guard !isShutDown else { return d }
        for c in connectors { d.add(.connectorMachine, at: c.machine.nextDeadline()) }

        if inputsSettling { d.add(.inputSettling, at: now + inputSampling.settleInterval) }
        // Fault inputs debounce by time: sampled again when their debounce ends (not before the
        // next settle sample, so an input whose state cannot move now never makes the loop spin;
        // a failing one is retried below instead).
        if !faultInputsFailing {
            var settling = [hardware.station.faults.settlesAt(after: now)]
            for c in connectors where c.hw.rcdSelfTest?.phase.isRunning != true { settling.append(c.hw.rcd?.settlesAt(after: now)) }
            if let due = settling.compactMap({ $0 }).min() {
                d.add(.inputSettling, at: max(due, now + inputSampling.settleInterval))
            }
        }
        if inputsFailing { d.add(.inputSampling, at: now + inputSampling.failingInputRetry) }
        if !inputSampling.inputsSignalChanges {
            let every = inputSampling.boardInterval ?? (isIdle ? inputSampling.idleInterval : inputSampling.settleInterval)
            d.add(.inputSampling, at: now + every)
        }

        for c in connectors { d.add(.statusLED, at: c.hw.led?.nextChange(after: now)) }
        if hardware.station.display != nil {
            let last = lastDisplayAt ?? now
            d.add(.display, at: last + (displayRefreshPending ? Self.displayMinimumInterval : Self.displayRefreshInterval))
        }
        // Something happened after this step's round (a backend request served): allocate now.
        d.add(.allocation, at: eventsSinceAllocation > 0 ? now : nextAllocationAt)
        if storageHealth.failureSeen != nil { d.add(.storageProbe, at: now) }
        if storageHealth.faulted { d.add(.storageProbe, at: storageHealth.nextProbeAt) }
        d.add(.historyPrune, at: nextHistoryPruneAt)
        return d
    }

    /// Some input is between two states and must be sampled again soon to settle.
    var inputsSettling: Bool {
        if hardware.station.cardReader?.isReadingCard == true { return true }
        for c in connectors {
            if c.hw.pilot.isSettling { return true }
            let contactor = c.hw.contactor.status
            // After a command, until the feedback agrees (or the fault is recorded).
            if let feedback = contactor.feedbackClosed, feedback != contactor.commandedClosed, contactor.faults.isEmpty { return true }
            if c.hw.rcdSelfTest?.phase.isRunning == true { return true }
            if let lock = c.hw.lock, lock.needsPolling || (c.lockState == nil && !c.lockReadFailing) { return true }
        }
        return false
    }

    /// Some input could not be read at the last step.
    var inputsFailing: Bool {
        readerFailing || faultInputsFailing
            || connectors.contains { $0.pilotReadFailing || $0.contactorReadFailing || $0.lockReadFailing }
    }
}
