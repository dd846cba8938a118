import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage
import Synchronization

/// Connector inputs: each step's readings of the pilot, contactor feedback, RCD, lock, PP, the
/// card reader and the meters become the machines' events. A failing input is reported once per
/// outage (the flags live with the connector), not once per step. On the safety path — a pilot
/// or fault change — the event reaches the machine, and so the contactor, before anything else
/// is done (the log line comes after).
extension Station {
    final class Connector {
        let hw: ConnectorHardware
        var machine: ConnectorStateMachine
        var meter: EnergyMeter?
        var pilotReadFailing = false
        var contactorReadFailing = false
        var lockReadFailing = false
        var lastPPCheck: MonotonicInstant?
        var cableAmps: Double?
        var lockState: CableLockState?
        var knownContactorFaults: Set<ContactorFaultKind> = []
        var rcdActive = false
        var meterFailures = 0
        var meterFaultRaised = false
        var lastMeterSample: MeterSample?
        /// The last reading handed to `meterObserver`: an idle meter repeats the same reading
        /// every poll, and each would wake the OCPP side for nothing.
        var lastObservedSample: MeterSample?
        var allocation: ConnectorAllocation?
        var signalledAmps: Double?
        /// What `localLimitObserver` last heard for this connector (whole amperes; nil: none).
        var reportedLocalLimitAmps: Double?
        /// 1/3-phase switching (PhaseSwitching.swift).
        var phaseSwitchJob: PhaseSwitchJob?
        var lastPhaseSwitchAt: MonotonicInstant?
        var phaseSwitchesThisSession = 0
        var phaseSwitchSessionId: String?
        var lastDenied: (token: IdToken, at: MonotonicInstant)?
        var lastFinished: (energyWh: Double, seconds: Int, at: MonotonicInstant, sessionId: String, idToken: String)?
        /// The journal refused the running session's stop request: a remote stop is not
        /// answered Accepted on a promise the disk does not hold.
        var stopNotKept = false
        init(hw: ConnectorHardware, machine: ConnectorStateMachine) {
            self.hw = hw
            self.machine = machine
            self.meter = hw.meter
        }
        var id: Int { hw.id }
    }

    func pollConnector(_ c: Connector, at now: MonotonicInstant, unixMs unix: UInt64, inputsChanged: Bool = false) {
        // Pilot: the safety path. A change is handled (and the contactor opened) right here.
        do {
            if let change = try c.hw.pilot.sample(at: now) {
                if change.diodeFault { dispatch(c, .faultRaised(.diode), at: now, unixMs: unix) }
                dispatch(c, .pilotChanged(change.to), at: now, unixMs: unix)
                // Logged once the contactor has its command: nothing comes between.
                logger.info("c\(c.id): pilot \(change.from?.rawValue ?? "-") → \(change.to.rawValue)\(change.diodeFault ? " (diode fault)" : "")")
                checkProximity(c, at: now, force: true)
            }
            if c.pilotReadFailing {
                c.pilotReadFailing = false
                logger.notice("c\(c.id): pilot readable again")
                dispatch(c, .faultCleared(.pilot), at: now, unixMs: unix)
            }
        } catch {
            if !c.pilotReadFailing {
                c.pilotReadFailing = true
                dispatch(c, .faultRaised(.pilot), at: now, unixMs: unix)
                logger.critical("c\(c.id): pilot cannot be read: \(error)")
            }
        }

        // Contactor feedback: a weld or a dropout.
        do {
            let faults = try c.hw.contactor.poll(at: now)
            for f in faults where !c.knownContactorFaults.contains(f.kind) {
                c.knownContactorFaults.insert(f.kind)
                dispatch(c, .contactorFault(f.kind), at: now, unixMs: unix)
                logger.critical("c\(c.id): \(f)")
            }
            if faults.isEmpty { c.knownContactorFaults.removeAll() }
            if c.contactorReadFailing { c.contactorReadFailing = false; logger.notice("c\(c.id): contactor feedback readable again") }
        } catch {
            // Once per outage, not once per step.
            if !c.contactorReadFailing { c.contactorReadFailing = true; logger.error("c\(c.id): contactor feedback: \(error)") }
        }

        // RCD (unless its self-test is tripping it on purpose).
        if let rcd = c.hw.rcd {
            let testing = c.hw.rcdSelfTest?.phase.isRunning ?? false
            if let test = c.hw.rcdSelfTest, testing {
                do {
                    let phase = try test.poll(at: now)
                    switch phase {
                    case .passed:
                        logger.notice("c\(c.id): RCD self-test passed")
                        dispatch(c, .rcdSelfTestFinished(passed: true), at: now, unixMs: unix)
                    case let .failed(why, _):
                        logger.critical("c\(c.id): RCD self-test failed: \(why)")
                        dispatch(c, .rcdSelfTestFinished(passed: false), at: now, unixMs: unix)
                    default: break
                    }
                } catch {
                    logger.error("c\(c.id): RCD self-test: \(error)")
                    dispatch(c, .rcdSelfTestFinished(passed: false), at: now, unixMs: unix)
                }
            } else {
                let tripped: Bool
                do { tripped = try rcd.poll(at: now) != nil } catch { tripped = true }
                if tripped != c.rcdActive {
                    c.rcdActive = tripped
                    dispatch(c, tripped ? .faultRaised(.input(.rcd)) : .faultCleared(.input(.rcd)), at: now, unixMs: unix)
                    if tripped { logger.critical("c\(c.id): RCD tripped") } else { logger.notice("c\(c.id): RCD released") }
                }
            }
        }

        // Lock feedback while it moves.
        if let lock = c.hw.lock, lock.needsPolling || c.lockState == nil {
            do {
                noteLock(c, try lock.poll(at: now), at: now, unixMs: unix)
                c.lockReadFailing = false
            } catch {
                if !c.lockReadFailing { c.lockReadFailing = true; logger.error("c\(c.id): lock feedback: \(error)") }
            }
        }

        // Woken by a pushed change: it may be the PP's (a cached read, no cost).
        checkProximity(c, at: now, force: inputsChanged && inputSampling.inputsSignalChanges)
    }

    func noteLock(_ c: Connector, _ state: CableLockState, at now: MonotonicInstant, unixMs unix: UInt64) {
        guard state != c.lockState else { return }
        c.lockState = state
        switch state {
        case .locked: dispatch(c, .lockConfirmed, at: now, unixMs: unix)
        case .unlocked: dispatch(c, .unlockConfirmed, at: now, unixMs: unix)
        case let .fault(kind, _):
            logger.error("c\(c.id): cable lock \(kind.rawValue)")
            dispatch(c, .faultRaised(.lock(kind)), at: now, unixMs: unix)
        case .locking, .unlocking: break
        }
    }

    /// PP is read on every pilot change and every 500 ms otherwise.
    func checkProximity(_ c: Connector, at now: MonotonicInstant, force: Bool) {
        if !force, let last = c.lastPPCheck, now - last < .milliseconds(500) { return }
        c.lastPPCheck = now
        let amps: Double?
        do {
            switch try c.hw.proximity.read().detection {
            case let .cable(a): amps = Double(a)
            case .noCable, .invalid: amps = nil
            }
        } catch {
            amps = nil
        }
        if amps != c.cableAmps {
            c.cableAmps = amps
            logger.info("c\(c.id): cable \(amps.map { "\(Int($0)) A" } ?? "none")")
            dispatch(c, .cableRatingChanged(amps: amps), at: now, unixMs: wallClock.unixMilliseconds())
        }
    }

    func pollCardReader(at now: MonotonicInstant, unixMs unix: UInt64) {
        guard let reader = hardware.station.cardReader else { return }
        do {
            let cards = try reader.poll(at: now)
            if readerFailing {
                readerFailing = false
                for c in connectors { dispatch(c, .faultCleared(.reader), at: now, unixMs: unix) }
            }
            for rejection in reader.drainRejections() { logger.warning("card reader: \(rejection)") }
            for card in cards { presentCard(IdToken(card.uid), at: now, unixMs: unix) }
        } catch {
            if !readerFailing {
                readerFailing = true
                logger.error("card reader: \(error)")
                for c in connectors { dispatch(c, .faultRaised(.reader), at: now, unixMs: unix) }
            }
        }
    }

    /// A card at the station's one reader goes to: the connector whose session it started
    /// (to stop it), else a plugged-in connector waiting for a card, else the first free one
    /// (authorize first, plug in after).
    public func presentCard(_ token: IdToken, at now: MonotonicInstant, unixMs: UInt64? = nil) {
        let unix = unixMs ?? wallClock.unixMilliseconds()
        logger.info("card \(token.value) presented")
        // By identity, not kind: the card whose idTag a remote start used stops that session
        // and never arms another connector.
        let target = connectors.first { $0.machine.session.map { token.identifies($0.idToken) } ?? false }
            ?? connectors.first { $0.machine.session == nil && ($0.machine.pilot?.vehicleConnected ?? false) && $0.machine.status == .preparing }
            ?? connectors.first { $0.machine.session == nil && $0.machine.status == .available }
            ?? connectors.first { $0.machine.session != nil }
        guard let c = target else {
            logger.notice("card \(token.value): no connector can take it now")
            return
        }
        dispatch(c, .authorizationRequested(token), at: now, unixMs: unix)
    }

    func takeMeterEvents(at now: MonotonicInstant, unixMs unix: UInt64) {
        for (id, event) in meterInbox.drain() {
            if id == Self.gridMeterInboxId {
                takeGridMeterEvent(event, at: now)
                continue
            }
            guard let c = connectors.first(where: { $0.id == id }) else { continue }
            switch event {
            case let .sample(s):
                c.meterFailures = 0
                if c.meterFaultRaised {
                    c.meterFaultRaised = false
                    dispatch(c, .faultCleared(.meter), at: now, unixMs: unix)
                }
                guard let sample = Self.coreSample(s) else { continue }
                c.lastMeterSample = sample
                logger.debug("c\(c.id): meter \(sample.energyWh) Wh \(sample.powerW ?? 0) W")
                dispatch(c, .meterSample(sample), at: now, unixMs: unix)
                if c.lastObservedSample.map({ !$0.isSameReading(as: sample) }) ?? true {
                    c.lastObservedSample = sample
                    meterObserver?(c.id, sample)
                }
            case let .fault(fault, _):
                c.meterFailures += 1
                logger.warning("c\(c.id): meter: \(fault)")
                if c.meterFailures >= 3, !c.meterFaultRaised {
                    c.meterFaultRaised = true
                    dispatch(c, .faultRaised(.meter), at: now, unixMs: unix)
                }
            case .recovered:
                logger.notice("c\(c.id): meter answers again")
            }
        }
    }
}
