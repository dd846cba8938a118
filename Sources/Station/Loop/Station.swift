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


    let connectors: [Connector]
    let authorization: AuthorizationService
    let recorder: SessionRecorder
    /// What the loop sleeps on between steps: the backend's input changes, the meter inbox and
    /// the backend port signal it (Station+Deadlines.swift says when it wakes on its own).
    public let wake: LoopWakeUp
    /// How inputs that cannot signal their changes are sampled (the daemon sets it from its
    /// options and the board).
    public var inputSampling = InputSampling()
    /// Meter readings arrive here from the pollers' queues and are taken in by `step`.
    public let meterInbox: MeterInbox
    var pollers: [Int: MeterPoller] = [:]
    var rateLimiter = PWMChangeRateLimiter()
    var stationFaults: Set<FaultKind> = []
    var storageHealth = StorageHealth()
    var nextHistoryPruneAt: MonotonicInstant?
    var scheduler: DisplayMessageScheduler
    /// Prices and costs a backend sent for the display (StationPricing.swift).
    var pricing = StationPricing()
    var lastDisplayLines: [String] = []
    var lastDisplayQRCode: String?
    var lastDisplayAt: MonotonicInstant?
    var displayFailing = false
    /// A change was not shown because the display was refreshed less than 250 ms ago.
    var displayRefreshPending = false
    var readerFailing = false
    var faultInputsFailing = false
    private(set) public var isShutDown = false
    /// Queues the protocol adapter's messages owed for each session start and end inside the
    /// journal transaction that records it (see `SessionMessagesOwed`). Set before `start`.
    public var sessionMessagesOwed: SessionMessagesOwed? {
        get { recorder.messagesOwed }
        set { recorder.messagesOwed = newValue }
    }
    /// Sees every command of every connector's machine once it was carried out, on the loop's
    /// thread (the OCPP adapters: status changes, sessions, authorization requests). After, not
    /// before: nothing delays a contactor command.
    public var commandObserver: ((_ connectorId: Int, _ command: ConnectorCommand) -> Void)?
    /// Hears every meter reading a connector takes in, on the loop's thread.
    public var meterObserver: ((_ connectorId: Int, _ sample: MeterSample) -> Void)?
    /// Hears when the station's own energy management (load sharing between connectors, the
    /// grid meter's limits, PV mode) starts, changes (by a whole ampere) or stops holding a
    /// charging connector below what its own limits allow (nil: no longer), on the loop's thread.
    public var localLimitObserver: ((_ connectorId: Int, _ amps: Double?) -> Void)?
    /// Steps taken; the daemon's watchdog checks that this moves.
    public private(set) var stepCount: UInt64 = 0
    /// Events handled since the last allocation round: allocation runs when something changed
    /// (or a held PWM increase falls due, or once a second), not on every idle step.
    var eventsSinceAllocation = 0
    var nextAllocationAt: MonotonicInstant?
    /// Smart-charging profiles a backend installed (Station+SmartCharging.swift).
    var chargingProfiles = CompositeScheduleCalculator()
    /// Energy management against the grid meter (Station+Grid.swift).
    var grid = GridState()

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
        let wake = try LoopWakeUp()
        self.wake = wake
        self.meterInbox = MeterInbox(wake: wake)
        if let signalling = backend as? any InputChangeSignalling {
            signalling.signalInputChanges(to: wake)
            inputSampling.inputsSignalChanges = signalling.signalsEveryInputChange
        }
        let rates = board.connectors.compactMap { $0.pilot.sampleRateHz }
        if let fastest = rates.max() { inputSampling.boardInterval = .microseconds(Int64((1_000_000 / fastest).rounded())) }
        let availability = try storage.connectorAvailability.all()
        var list: [Connector] = []
        for (index, hw) in hardware.connectors.enumerated() {
            let c = hw.description
            var cc = ConnectorConfig(maximumCurrent: c.ceilingAmps)
            cc.lockRequired = hw.lock != nil
            if case let .fixedCable(rating) = c.kind { cc.fixedCableAmps = rating }
            cc.hasMeter = hw.meter != nil
            // Three polls' worth: the poller reads at once when asked, a slow RTU meter included.
            cc.finalMeterReadingTimeout = .seconds(Int64(3))
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
        let wall = self.wallClock
        self.recorder = SessionRecorder(journal: storage.journal, wallMs: { wall.unixMilliseconds() })
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
        setUpEnergyManagement()
        stampJournalRows()
    }

    /// The demo cards of the station file become the local list (a standalone station has no
    /// backend to send one). The list is replaced only when the cards in the file changed since
    /// the last start (their fingerprint is kept in the config store), so a card removed from the
    /// file leaves the list too, and an unchanged file does not bump the list version.
    func seedLocalList() throws {
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

    // MARK: - The loop

    /// One iteration: sample the hardware, feed the machines, execute their commands,
    /// reallocate power, refresh the display. `inputsChanged`: the loop was woken by an input
    /// change (the proximity pilot is then read at once, not at its 500 ms pace).
    public func step(at now: MonotonicInstant, inputsChanged: Bool = false) {
        guard !isShutDown else { return }
        stepCount &+= 1
        let unix = wallClock.unixMilliseconds()
        correctTimesIfTheClockWasSet()

        // Station-wide fault inputs first: they concern every connector.
        let scan = hardware.station.faults.poll(at: now)
        faultInputsFailing = !scan.readErrors.isEmpty
        let active = Set(scan.active.map(\.kind))
        for kind in active.subtracting(stationFaults) {
            for c in connectors { dispatch(c, .faultRaised(.input(kind)), at: now, unixMs: unix) }
            logger.critical("station fault: \(kind.rawValue)")
        }
        for kind in stationFaults.subtracting(active) {
            logger.notice("station fault cleared: \(kind.rawValue)")
            for c in connectors { dispatch(c, .faultCleared(.input(kind)), at: now, unixMs: unix) }
        }
        stationFaults = active

        for c in connectors { pollConnector(c, at: now, unixMs: unix, inputsChanged: inputsChanged) }
        pollCardReader(at: now, unixMs: unix)
        takeMeterEvents(at: now, unixMs: unix)
        for c in connectors {
            if let deadline = c.machine.nextDeadline(), deadline <= now { dispatch(c, .tick, at: now, unixMs: unix) }
        }
        paceMeters()
        checkStorage(at: now, unixMs: unix)
        pruneSessionHistory(at: now, unixMs: unix)
        if eventsSinceAllocation > 0 || nextAllocationAt.map({ now >= $0 }) ?? true { reallocate(at: now) }
        for c in connectors { updateLED(c, at: now) }
        renderDisplay(at: now)
    }

    // MARK: - Shutdown

    /// SIGTERM: open every contactor, withdraw the PWM, stop the meters, leave the sessions
    /// open in the journal (the next start reconciles them with the hardware). Idempotent.
    public func shutdown(at now: MonotonicInstant) {
        guard !isShutDown else { return }
        isShutDown = true
        for p in pollers.values { p.stop() }
        grid.poller?.stop()
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
