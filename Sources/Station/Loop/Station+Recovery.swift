import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage
import Synchronization

/// Start and crash recovery: outputs to their safe state, the hardware read, and the sessions a
/// previous run left open in the journal settled — resumed or ended, each exactly once.
extension Station {
    // MARK: - Start and recovery

    /// What `start` found and did for the sessions a previous run left open.
    public struct RecoveryReport: Sendable, Equatable {
        public var resumed: [String] = []
        public var ended: [String] = []
        public init() {}
    }

    /// Puts every output in its safe state, reads the hardware (pilot, contactor feedback,
    /// meter register) and settles the sessions the journal holds open: resumed or ended by
    /// `config.sessions.recovery`. Reads the meters synchronously (before any poller owns them).
    @discardableResult
    public func start(at now: MonotonicInstant) throws -> RecoveryReport {
        let unix = wallClock.unixMilliseconds()
        for c in connectors {
            do {
                try c.hw.contactor.open(at: now)
                try c.hw.pilot.setNotReady()
            } catch {
                logger.critical("c\(c.id): cannot put the outputs in their safe state: \(error)")
                throw error
            }
        }
        selectThreePhases()  // contactors open, no session yet: the relay may switch (PhaseSwitching.swift)
        // Let the pilot debounce settle on what is plugged in now.
        var pilotNow: [Int: CPState] = [:]
        for c in connectors {
            for _ in 0..<max(1, c.hw.pilot.config.debounceSamples) {
                if let change = try? c.hw.pilot.sample(at: now) { pilotNow[c.id] = change.to }
            }
            if pilotNow[c.id] == nil { pilotNow[c.id] = c.hw.pilot.currentState }
        }
        readMetersNow(at: now, intoMachines: false)

        var report = RecoveryReport()
        let open = try recorder.openSessions()
        let policy: PowerLossPolicy = config.sessions.recovery == .resume ? .resumeIfPlugged : .endSession
        for session in open {
            guard let c = connectors.first(where: { $0.id == session.connectorId }) else {
                logger.error("journal: open session \(session.id) on connector \(session.connectorId), which this board does not have: ending it")
                var ended = session
                ended.end(reason: .powerLoss, meterStopWh: session.lastKnownEnergyWh, atUnixMs: unix)
                try recorder.record(.ended(ended), state: "Finishing")
                report.ended.append(session.id)
                continue
            }
            let contactor: HardwareSnapshot.ContactorReading
            if let fb = try? c.hw.contactor.poll(at: now), fb.contains(where: { $0.kind == .welded }) { contactor = .welded }
            else if c.hw.contactor.hasFeedback { contactor = c.hw.contactor.status.feedbackClosed == true ? .closed : .open }
            else { contactor = .unknown }
            let plugged = pilotNow[c.id]?.vehicleConnected ?? false
            let snapshot = HardwareSnapshot(vehiclePlugged: plugged, contactor: contactor,
                                            meterEnergyWh: c.lastMeterSample?.energyWh, unixMs: unix)
            switch SessionRecovery.decide(openSession: session, hardware: snapshot, policy: policy) {
            case .nothing:
                break
            case let .resume(s):
                logger.notice("c\(c.id): resuming session \(s.id) of \(s.idToken.value) after a restart (meter start \(s.meterStartWh) Wh, register now \(c.lastMeterSample?.energyWh ?? -1) Wh)")
                if let sample = c.lastMeterSample { dispatch(c, .meterSample(sample), at: now, unixMs: unix) }
                execute(c, c.machine.resume(s, at: now, unixMs: unix), at: now)
                report.resumed.append(s.id)
            case let .end(s, commands):
                logger.notice("c\(c.id): ending session \(s.id) left open by a restart: \(s.energyWh) Wh, reason \(s.stopReason?.rawValue ?? "-")")
                execute(c, commands, at: now)
                report.ended.append(s.id)
            }
        }
        // The preludes (the EV or a token came first, the session not yet): each keeps its id,
        // an authorized one its grant. A connector the board lacks, or one a session was resumed
        // on, ends it.
        for prelude in try recorder.preludes() {
            guard let c = connectors.first(where: { $0.id == prelude.connectorId }), c.machine.session == nil else {
                logger.notice("journal: prelude \(prelude.id) on connector \(prelude.connectorId) cannot go on: ending it")
                try recorder.record(.preludeEnded(prelude, SessionPreludeEnd(reason: .powerLoss, atUnixMs: unix, meterWh: prelude.meterWh)),
                                    state: "Available")
                continue
            }
            logger.notice("c\(c.id): the next session keeps its id \(prelude.id) after a restart (\(prelude.cause.rawValue) first)")
            execute(c, c.machine.resumePrelude(prelude, at: now, unixMs: unix), at: now)
        }
        probeStorageAtStart(at: now, unixMs: unix)
        // First events: what is plugged in and the meter reading.
        for c in connectors {
            if let sample = c.lastMeterSample, c.machine.session == nil { dispatch(c, .meterSample(sample), at: now, unixMs: unix) }
            if let state = pilotNow[c.id] { dispatch(c, .pilotChanged(state), at: now, unixMs: unix) }
            checkProximity(c, at: now, force: true)
            dispatch(c, .tick, at: now, unixMs: unix)
        }
        reallocate(at: now)
        renderDisplay(at: now, force: true)
        return report
    }

    /// Hands the meters to `MeterPoller`s (read on the one `meter-poll` thread) that feed
    /// `meterInbox`, each at its board `poll_ms` while its connector is in use and at its
    /// `idle_poll_ms` while idle (`paceMeters`); the arguments override the board (tests).
    /// The daemon calls this after `start`; tests feed samples or call `readMetersNow` instead.
    public func startMeterPolling(interval: EVSEDuration? = nil, idleInterval: EVSEDuration? = nil) {
        for c in connectors {
            guard let meter = c.meter else { continue }
            c.meter = nil
            let inbox = meterInbox
            let id = c.id
            let busy = interval ?? c.hw.description.meter?.pollInterval ?? .milliseconds(1_000)
            let idle = idleInterval ?? c.hw.description.meter?.idlePollInterval ?? busy
            nonisolated(unsafe) let handed = meter
            let poller = MeterPoller(meter: handed, interval: busy, idleInterval: idle, clock: clock) { inbox.post(connector: id, $0) }
            poller.start()
            pollers[id] = poller
        }
        paceMeters()
        startGridMeterPolling()
    }

    /// A connector is idle while it has no session, no EV and an open contactor: nothing can
    /// flow, so its meter is read at the idle pace. Anything else reads it at the busy pace,
    /// and the change to busy reads it at once (the EV just arrived).
    func paceMeters() {
        for c in connectors {
            guard let poller = pollers[c.id] else { continue }
            poller.setIdle(c.machine.session == nil && !c.machine.contactorClosed && !(c.machine.pilot?.vehicleConnected ?? false))
        }
    }

    /// Reads every meter the station still holds, now, on this thread (tests, and `start`).
    public func readMetersNow(at now: MonotonicInstant, intoMachines: Bool = true) {
        readGridMeterNow(at: now)
        for c in connectors {
            guard let meter = c.meter else { continue }
            do {
                let s = try meter.read(at: now)
                if intoMachines { meterInbox.post(connector: c.id, .sample(s)) } else { c.lastMeterSample = Self.coreSample(s) }
            } catch {
                if intoMachines { meterInbox.post(connector: c.id, .fault(error, at: now)) }
                else { logger.warning("c\(c.id): meter does not answer at start: \(error)") }
            }
        }
    }

    static func coreSample(_ s: Drivers.MeterReadout) -> MeterSample? {
        guard let wh = s[.energyImported] else { return nil }
        let currents = [s[.currentL1], s[.currentL2], s[.currentL3]].compactMap { $0 }
        return MeterSample(energyWh: wh, currentsA: currents, powerW: s[.activePowerTotal], readAt: s.at)
    }
}
