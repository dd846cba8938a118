import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage
import Synchronization

/// One charger at work: the board's drivers, one `ConnectorStateMachine` per connector, the
/// authorization service, the power allocator, the display and the journal, driven by one
/// serial loop.
///
/// Not thread-safe by design: every method except `meterInbox` runs on the loop's thread.
/// `step(at:)` is one iteration of the loop: the daemon calls it every few milliseconds with
/// the system monotonic clock, tests call it with a `VirtualClock` and never sleep.
///
/// Within a step, a pilot or fault change reaches the contactor synchronously: the driver's
/// reading becomes an event, the state machine answers with `.openContactor`, and the driver
/// writes the coil before the step returns. Nothing on that path waits for the database, the
/// meter or the network. Commands are executed in the order the machine gives them, which puts
/// `.persist` before any command with a billing effect (the journal write is fsynced).
public final class Station {
    public let config: StationConfig
    public let hardware: BoardHardware
    public let storage: StationStorage
    public let clock: any EVSEClock
    public let wallClock: any WallClock
    let logger: Logger

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
        var lastMeterSample: ChargingCore.MeterSample?
        var allocation: ConnectorAllocation?
        var signalledAmps: Double?
        var lastDenied: (token: IdToken, at: MonotonicInstant)?
        var lastFinished: (energyWh: Double, seconds: Int, at: MonotonicInstant)?
        init(hw: ConnectorHardware, machine: ConnectorStateMachine) {
            self.hw = hw
            self.machine = machine
            self.meter = hw.meter
        }
        var id: Int { hw.id }
    }

    let connectors: [Connector]
    let authorization: AuthorizationService
    let recorder: SessionRecorder
    /// Meter readings arrive here from the pollers' queues and are taken in by `step`.
    public let meterInbox = MeterInbox()
    private var pollers: [MeterPoller] = []
    private var rateLimiter = PWMChangeRateLimiter()
    private var stationFaults: Set<FaultKind> = []
    var scheduler: DisplayMessageScheduler
    var lastDisplayLines: [String] = []
    var lastDisplayAt: MonotonicInstant?
    var displayFailing = false
    private var readerFailing = false
    private(set) public var isShutDown = false
    /// Sees every command of every connector's machine before it is executed, on the loop's
    /// thread (the OCPP adapters: status changes, sessions, authorization requests).
    public var commandObserver: ((_ connectorId: Int, _ command: ConnectorCommand) -> Void)?
    /// Steps taken; the daemon's watchdog checks that this moves.
    public private(set) var stepCount: UInt64 = 0
    /// Events handled since the last allocation round: allocation runs when something changed
    /// (or a held PWM increase falls due, or once a second), not on every idle step.
    private var eventsSinceAllocation = 0
    private var nextAllocationAt: MonotonicInstant?
    /// Smart-charging profiles a backend installed (Station+SmartCharging.swift).
    var chargingProfiles = CompositeScheduleCalculator()

    /// Builds the station on `backend` (the daemon: `BackendFactory.make`; tests: `FakeBackend`).
    /// Seeds the local list with the config's cards. Nothing is driven until `start(at:)`.
    public init(board: BoardDescription, backend: any HardwareBackend,
                modbus: ((ModbusBusConfig) throws -> any ModbusBus)? = nil,
                config: StationConfig, storage: StationStorage, clock: any EVSEClock,
                wallClock: (any WallClock)? = nil, logger: Logger = Logger(label: "station"),
                sessionIdSeed: UInt64 = 0) throws {
        self.config = config
        self.storage = storage
        self.clock = clock
        self.wallClock = wallClock ?? SystemWallClock()
        self.logger = logger
        self.hardware = try BoardHardware.assemble(board: board, backend: backend, modbus: modbus)
        let availability = try storage.connectorAvailability.all()
        var list: [Connector] = []
        for (index, hw) in hardware.connectors.enumerated() {
            let c = hw.description
            var cc = ConnectorConfig(maximumCurrent: c.ceilingAmps)
            cc.lockRequired = hw.lock != nil
            if case let .fixedCable(rating) = c.kind { cc.fixedCableAmps = rating }
            cc.hasMeter = hw.meter != nil
            cc.rcdSelfTestAvailable = hw.rcdSelfTest != nil
            cc.freeVend = config.authorization.mode == .freeVend
            cc.connectionTimeout = config.sessions.connectionTimeout
            cc.stopOnEVSideDisconnect = config.sessions.stopOnEVDisconnect
            cc.unlockOnEVSideDisconnect = config.sessions.unlockOnEVDisconnect
            cc.sessionIdSeed = sessionIdSeed &+ UInt64(index) &* 0x1000_0000_0000
            try cc.validate()
            let operative = availability[c.id].map { $0 != .inoperative } ?? true
            list.append(Connector(hw: hw, machine: ConnectorStateMachine(connectorId: c.id, config: cc, operative: operative)))
        }
        self.connectors = list
        self.recorder = SessionRecorder(journal: storage.journal)
        let log = logger
        let onError: (any Error) -> Void = { log.error("authorization storage: \($0)") }
        var policy = AuthorizationPolicy()
        switch config.authorization.mode {
        case .freeVend: policy.mode = .freeVend
        case .localList: policy.mode = .localListOnly
        case .localListAndCache: policy.mode = .online
        }
        policy.localAuthorizeOffline = config.authorization.offline.authorizeFromLocalList
            || config.authorization.offline.authorizeFromCache
        policy.cacheEnabled = config.authorization.offline.authorizeFromCache
        policy.allowOfflineTxForUnknownId = config.authorization.offline.allowUnknownIds
        self.authorization = AuthorizationService(
            policy: policy,
            localList: StoredLocalAuthorizationList(store: storage.localList, onError: onError),
            cache: StoredAuthorizationCache(store: storage.authorizationCache, onError: onError),
            backend: NoAuthorizationBackend())
        let display = hardware.station.display
        self.scheduler = DisplayMessageScheduler(language: DisplayLanguage(rawValue: config.language) ?? .en,
                                                 columns: display?.columns ?? 20, rows: display?.rows ?? 4)
        try seedLocalList()
    }

    /// The demo cards of the station file become the local list (a standalone station has no
    /// backend to send one). The list is replaced only when the cards in the file changed since
    /// the last start (their fingerprint is kept in the config store), so a card removed from the
    /// file leaves the list too, and an unchanged file does not bump the list version.
    private func seedLocalList() throws {
        guard !config.authorization.cards.isEmpty else { return }
        let fingerprint = config.authorization.cards.map { "\($0.idToken)=\($0.status.rawValue)" }.joined(separator: ",")
        let key = "station.local_list.cards"
        if try storage.config.value(for: key) == fingerprint { return }
        let store = storage.localList
        let version = try store.currentVersion() + 1
        try store.fullUpdate(version: version, entries: config.authorization.cards.map {
            AuthorizationRecord(idToken: $0.idToken, status: $0.status.stored)
        })
        try storage.config.set(fingerprint, for: key)
        logger.info("local list: \(config.authorization.cards.count) card(s) from \(config.file ?? "the station config"), version \(version)")
    }

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

    /// Hands the meters to `MeterPoller`s (one serial queue each) that feed `meterInbox`.
    /// The daemon calls this after `start`; tests feed samples or call `readMetersNow` instead.
    public func startMeterPolling(interval: EVSEDuration = .milliseconds(1_000)) {
        for c in connectors {
            guard let meter = c.meter else { continue }
            c.meter = nil
            let inbox = meterInbox
            let id = c.id
            nonisolated(unsafe) let handed = meter
            let poller = MeterPoller(meter: handed, interval: interval, clock: clock) { inbox.post(connector: id, $0) }
            poller.start()
            pollers.append(poller)
        }
    }

    /// Reads every meter the station still holds, now, on this thread (tests, and `start`).
    public func readMetersNow(at now: MonotonicInstant, intoMachines: Bool = true) {
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

    static func coreSample(_ s: Drivers.MeterSample) -> ChargingCore.MeterSample? {
        guard let wh = s[.energyImported] else { return nil }
        let currents = [s[.currentL1], s[.currentL2], s[.currentL3]].compactMap { $0 }
        return ChargingCore.MeterSample(energyWh: wh, currentsA: currents, powerW: s[.activePowerTotal])
    }

    // MARK: - The loop

    /// One iteration: sample the hardware, feed the machines, execute their commands,
    /// reallocate power, refresh the display.
    public func step(at now: MonotonicInstant) {
        guard !isShutDown else { return }
        stepCount &+= 1
        let unix = wallClock.unixMilliseconds()

        // Station-wide fault inputs first: they concern every connector.
        let scan = hardware.station.faults.poll(at: now)
        let active = Set(scan.active.map(\.kind))
        for kind in active.subtracting(stationFaults) {
            logger.critical("station fault: \(kind.rawValue)")
            for c in connectors { dispatch(c, .faultRaised(.input(kind)), at: now, unixMs: unix) }
        }
        for kind in stationFaults.subtracting(active) {
            logger.notice("station fault cleared: \(kind.rawValue)")
            for c in connectors { dispatch(c, .faultCleared(.input(kind)), at: now, unixMs: unix) }
        }
        stationFaults = active

        for c in connectors { pollConnector(c, at: now, unixMs: unix) }
        pollCardReader(at: now, unixMs: unix)
        takeMeterEvents(at: now, unixMs: unix)
        for c in connectors {
            if let deadline = c.machine.nextDeadline(), deadline <= now { dispatch(c, .tick, at: now, unixMs: unix) }
        }
        if eventsSinceAllocation > 0 || nextAllocationAt.map({ now >= $0 }) ?? true { reallocate(at: now) }
        for c in connectors { updateLED(c, at: now) }
        renderDisplay(at: now)
    }

    private func pollConnector(_ c: Connector, at now: MonotonicInstant, unixMs unix: UInt64) {
        // Pilot: the safety path. A change is handled (and the contactor opened) right here.
        do {
            if let change = try c.hw.pilot.sample(at: now) {
                logger.info("c\(c.id): pilot \(change.from?.rawValue ?? "-") → \(change.to.rawValue)\(change.diodeFault ? " (diode fault)" : "")")
                if change.diodeFault { dispatch(c, .faultRaised(.diode), at: now, unixMs: unix) }
                dispatch(c, .pilotChanged(change.to), at: now, unixMs: unix)
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
                logger.critical("c\(c.id): pilot cannot be read: \(error)")
                dispatch(c, .faultRaised(.pilot), at: now, unixMs: unix)
            }
        }

        // Contactor feedback: a weld or a dropout.
        do {
            let faults = try c.hw.contactor.poll(at: now)
            for f in faults where !c.knownContactorFaults.contains(f.kind) {
                c.knownContactorFaults.insert(f.kind)
                logger.critical("c\(c.id): \(f)")
                dispatch(c, .contactorFault(f.kind), at: now, unixMs: unix)
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
                    if tripped { logger.critical("c\(c.id): RCD tripped") } else { logger.notice("c\(c.id): RCD released") }
                    dispatch(c, tripped ? .faultRaised(.input(.rcd)) : .faultCleared(.input(.rcd)), at: now, unixMs: unix)
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

        checkProximity(c, at: now, force: false)
    }

    private func noteLock(_ c: Connector, _ state: CableLockState, at now: MonotonicInstant, unixMs unix: UInt64) {
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
    private func checkProximity(_ c: Connector, at now: MonotonicInstant, force: Bool) {
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

    private func pollCardReader(at now: MonotonicInstant, unixMs unix: UInt64) {
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
        let target = connectors.first { $0.machine.session?.idToken == token }
            ?? connectors.first { $0.machine.session == nil && ($0.machine.pilot?.vehicleConnected ?? false) && $0.machine.status == .preparing }
            ?? connectors.first { $0.machine.session == nil && $0.machine.status == .available }
            ?? connectors.first { $0.machine.session != nil }
        guard let c = target else {
            logger.notice("card \(token.value): no connector can take it now")
            return
        }
        dispatch(c, .authorizationRequested(token), at: now, unixMs: unix)
    }

    private func takeMeterEvents(at now: MonotonicInstant, unixMs unix: UInt64) {
        for (id, event) in meterInbox.drain() {
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

    // MARK: - Events and commands

    /// Feeds one event to a connector's machine and executes what it answers, in order.
    func dispatch(_ c: Connector, _ event: ConnectorEvent, at now: MonotonicInstant, unixMs: UInt64) {
        if case .allocatedCurrent = event {} else if case .tick = event {} else { eventsSinceAllocation += 1 }
        execute(c, c.machine.handle(event, at: now, unixMs: unixMs), at: now)
    }

    /// Executes commands in order. A failed `.persist` of a session start withholds every
    /// later command with a billing effect (closing the contactor) and stops the session: no
    /// energy flows that the journal does not know about.
    func execute(_ c: Connector, _ commands: [ConnectorCommand], at now: MonotonicInstant) {
        var followUps: [ConnectorEvent] = []
        var persistFailed = false
        let status = c.machine.status?.rawValue ?? "Preparing"
        for command in commands {
            commandObserver?(c.id, command)
            switch command {
            case let .persist(change):
                do {
                    if case let .availability(id, operative) = change {
                        try storage.connectorAvailability.set(operative ? .operative : .inoperative, forConnector: id)
                    } else {
                        try recorder.record(change, state: status)
                    }
                } catch StorageError.sessionAlreadyEnded(let id) {
                    logger.warning("c\(c.id): session \(id) was already ended in the journal; not ending it twice")
                } catch {
                    logger.critical("c\(c.id): journal write failed: \(error)")
                    if case .started = change { persistFailed = true; followUps.append(.stopRequested(.other)) }
                }
            case let .setPilot(p):
                do {
                    switch p {
                    case let .offer(amps): try c.hw.pilot.offer(current: min(amps, c.hw.pilot.config.maximumCurrent))
                    case .notReady: try c.hw.pilot.setNotReady()
                    case .stateF: try c.hw.pilot.setStateF()
                    }
                    logger.info("c\(c.id): pilot \(p)")
                } catch {
                    logger.error("c\(c.id): pilot output: \(error)")
                }
            case .closeContactor:
                if persistFailed {
                    logger.critical("c\(c.id): not closing the contactor: the session start is not in the journal")
                    continue
                }
                do {
                    try c.hw.contactor.close(at: now)
                    logger.info("c\(c.id): contactor closed")
                } catch {
                    logger.critical("c\(c.id): contactor close: \(error)")
                    followUps.append(.contactorFault(.failedToClose))
                }
            case let .openContactor(reason):
                do {
                    try c.hw.contactor.open(at: now)
                    logger.info("c\(c.id): contactor open (\(reason.rawValue))")
                } catch {
                    logger.critical("c\(c.id): contactor open: \(error)")
                }
            case .lock, .unlock:
                guard let lock = c.hw.lock else { continue }
                do {
                    if command == .lock { try lock.lock(at: now) } else { try lock.unlock(at: now) }
                    c.lockState = nil  // re-read below and on the next polls
                    let state = try lock.poll(at: now)
                    c.lockState = nil
                    switch state {
                    case .locked: followUps.append(.lockConfirmed); c.lockState = state
                    case .unlocked: followUps.append(.unlockConfirmed); c.lockState = state
                    default: c.lockState = state
                    }
                } catch {
                    logger.error("c\(c.id): cable lock: \(error)")
                    followUps.append(.faultRaised(.lock(command == .lock ? .failedToLock : .failedToUnlock)))
                }
            case let .statusChanged(s, error):
                logger.notice("c\(c.id): status \(s.rawValue)\(error.map { " (\($0.rawValue))" } ?? "")")
            case let .sessionStarted(s):
                c.lastFinished = nil
                logger.notice("c\(c.id): session \(s.id) started by \(s.idToken.value) (\(s.startReason.rawValue)), meter start \(s.meterStartWh) Wh")
            case let .sessionEnded(s):
                c.lastFinished = (s.energyWh, Int(((s.stoppedAtUnixMs ?? s.startedAtUnixMs) &- s.startedAtUnixMs) / 1_000), now)
                logger.notice("c\(c.id): session \(s.id) ended (\(s.stopReason?.rawValue ?? "-")): \(s.energyWh) Wh, meter \(s.meterStartWh) → \(s.meterStopWh ?? -1) Wh")
            case let .authorize(token):
                let decision = authorization.authorize(token, atUnixMs: wallClock.unixMilliseconds())
                switch decision {
                case let .accepted(info, source):
                    logger.info("card \(token.value): \(info.status.rawValue) by \(source.rawValue)")
                case let .rejected(info, source):
                    logger.notice("card \(token.value): \(info.status.rawValue) by \(source.rawValue)")
                case .pending:
                    logger.info("card \(token.value): waiting for the backend")
                }
                if let info = decision.info { followUps.append(.authorizationResult(token, info)) }
            case let .authorizationDenied(token, status):
                c.lastDenied = (token, now)
                logger.notice("c\(c.id): \(token.value) refused: \(status.rawValue)")
            case .runRCDSelfTest:
                if let test = c.hw.rcdSelfTest {
                    do { _ = try test.start(at: now) } catch {
                        logger.error("c\(c.id): RCD self-test: \(error)")
                        followUps.append(.rcdSelfTestFinished(passed: false))
                    }
                } else {
                    followUps.append(.rcdSelfTestFinished(passed: true))
                }
            case let .reservationAnswered(id, answer):
                logger.info("c\(c.id): reservation \(id): \(answer.rawValue)")
            case let .reservationEnded(id, reason):
                logger.info("c\(c.id): reservation \(id) ended: \(reason.rawValue)")
            case let .availabilityAnswered(answer):
                logger.info("c\(c.id): availability change \(answer.rawValue)")
            }
        }
        for event in followUps { dispatch(c, event, at: now, unixMs: wallClock.unixMilliseconds()) }
    }

    // MARK: - Power

    /// Shares the grid connection among the sessions that want energy and tells each machine
    /// its share (through the PWM rate limiter: reductions at once, increases paced).
    func reallocate(at now: MonotonicInstant) {
        let board = hardware.board
        let inputs = connectors.map { c -> AllocationConnectorInput in
            let m = c.machine
            let wants = m.session != nil && (m.pilot?.vehicleConnected ?? false)
            return AllocationConnectorInput(
                connectorId: c.id, wantsEnergy: wants, boardMaxAmps: c.hw.description.ceilingAmps,
                cableMaxAmps: c.cableAmps,
                phaseUse: c.hw.description.phases == 1 ? .singlePhase(.l1) : .threePhase,
                measuredAmps: m.contactorClosed ? c.lastMeterSample.flatMap { $0.currentsA.count == 3 ? $0.currentsA : nil } : nil,
                externalLimit: smartChargingLimit(connector: c.id, session: m.session),
                previousAllocationAmps: c.allocation?.amps ?? 0,
                chargingSince: c.allocation?.chargingSince, suspendedSince: c.allocation?.suspendedSince)
        }
        let input = AllocationInput(now: now, grid: board.grid.phases == 1 ? .singlePhase : .threePhase,
                                    gridLimitAmps: board.grid.maxCurrentAmps,
                                    stationExternalLimit: smartChargingLimit(connector: 0, session: nil), connectors: inputs)
        let result = PowerAllocator.allocate(input)
        // Idle connectors stay out of the rate limiter: the first offer of a session is a
        // start (x1 → x2), not a change the EV has to follow, so it is not held back by the
        // connector's own pacing (the settling after another connector's reduction still applies).
        let paced = result.connectors.filter { a in
            inputs.first { $0.connectorId == a.connectorId }?.wantsEnergy == true || (rateLimiter.signalled[a.connectorId] ?? 0) > 0
        }
        let signals = rateLimiter.apply(targets: paced.map { ($0.connectorId, $0.amps) }, now: now)
        let unix = wallClock.unixMilliseconds()
        eventsSinceAllocation = 0
        var next = now + .seconds(Int64(1))
        for s in signals { if let due = s.nextChangeAllowedAt, due < next { next = due } }
        nextAllocationAt = next
        for c in connectors {
            guard let a = result.allocation(for: c.id) else { continue }
            let previous = c.allocation?.amps
            c.allocation = a
            let amps = signals.first { $0.connectorId == c.id }?.amps ?? a.amps
            if previous != a.amps { logger.debug("c\(c.id): allocation \(a.amps) A (\(a.decision))") }
            if amps != c.signalledAmps {
                c.signalledAmps = amps
                dispatch(c, .allocatedCurrent(amps: amps), at: now, unixMs: unix)
            }
        }
    }

    // MARK: - Shutdown

    /// SIGTERM: open every contactor, withdraw the PWM, stop the meters, leave the sessions
    /// open in the journal (the next start reconciles them with the hardware). Idempotent.
    public func shutdown(at now: MonotonicInstant) {
        guard !isShutDown else { return }
        isShutDown = true
        for p in pollers { p.stop() }
        for c in connectors {
            do { try c.hw.contactor.open(at: now) } catch { logger.critical("c\(c.id): contactor open at shutdown: \(error)") }
            do { try c.hw.pilot.setNotReady() } catch { logger.error("c\(c.id): pilot at shutdown: \(error)") }
            if let s = c.machine.session {
                // Every change of the session is already on disk (the journal is written as it happens).
                logger.notice("c\(c.id): energy suspended for shutdown; session \(s.id) stays open for the next start")
            }
        }
        if let display = hardware.station.display {
            try? display.show(lines: TextLayout.fit(["SwiftEVSE", "Out of service"], columns: display.columns, rows: display.rows))
        }
    }

    // MARK: - Observation (tests, evsectl, the OCPP adapters later)

    public struct ConnectorView: Sendable, Equatable {
        public var id: Int
        public var status: ConnectorStatus?
        public var error: ConnectorErrorKind?
        public var pilot: CPState?
        public var contactorClosed: Bool
        public var session: Session?
        public var allocatedAmps: Double?
        /// The connector has a socket lock (a tethered cable has none).
        public var hasLock: Bool
        /// The lock's position as its feedback last read (nil: no lock, or not read yet).
        public var lock: CableLockState?
    }

    public var connectorViews: [ConnectorView] {
        connectors.map {
            ConnectorView(id: $0.id, status: $0.machine.status, error: $0.machine.errorKind, pilot: $0.machine.pilot,
                          contactorClosed: $0.machine.contactorClosed, session: $0.machine.session,
                          allocatedAmps: $0.allocation?.amps, hasLock: $0.hw.lock != nil, lock: $0.lockState)
        }
    }

    public func connector(_ id: Int) -> ConnectorView? { connectorViews.first { $0.id == id } }

    /// Nothing plugged in, no session, every contactor open: the loop may step slower (no
    /// safety path is armed; a plug-in is seen a few milliseconds later at worst).
    public var isIdle: Bool {
        connectors.allSatisfy {
            $0.machine.session == nil && !$0.machine.contactorClosed && !($0.machine.pilot?.vehicleConnected ?? false)
                && !$0.machine.hasBlockingFault
        }
    }
}

/// Meter events from the pollers' queues to the loop. The only state the loop shares.
public final class MeterInbox: Sendable {
    private let pending = Mutex<[(Int, MeterPollerEvent)]>([])
    public init() {}
    public func post(connector: Int, _ event: MeterPollerEvent) {
        pending.withLock { p in
            p.append((connector, event))
            // A stalled loop must not grow memory without bound: keep the newest.
            if p.count > 256 { p.removeFirst(p.count - 256) }
        }
    }
    func drain() -> [(Int, MeterPollerEvent)] { pending.withLock { p in defer { p.removeAll() }; return p } }
}
