import LogUpload
import FirmwareUpdate
import StationPort
import ChargingCore
import HAL
import NIOCore
import Logging
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Locking
import Synchronization

/// The OCPP 1.6J charge point (Core profile): registers with the CSMS, reports the station's
/// connectors and transactions, and carries out the CSMS's requests through the station port.
/// It holds no charging logic: the station's core decides, this translates.
///
/// Inputs arrive in order through `connectionUp()`, `connectionDown()` and `stationEvent(_:)`
/// (any thread); inbound CALLs through `handle(action:payload:)` (the RPC layer's handler).
public actor OCPP16ChargePoint {
    public struct Identity: Sendable, Hashable {
        public var vendor: String
        public var model: String
        public var serialNumber: String?
        public var firmwareVersion: String?
        public init(vendor: String, model: String, serialNumber: String? = nil, firmwareVersion: String? = nil) {
            self.vendor = vendor
            self.model = model
            self.serialNumber = serialNumber
            self.firmwareVersion = firmwareVersion
        }
    }

    public enum Registration: String, Sendable, Hashable {
        case notRegistered, pending, accepted, rejected
    }

    /// Waits `duration` (returns early when the task is cancelled). Tests inject a manual one.
    public typealias Sleeper = @Sendable (EVSEDuration) async -> Void

    /// On the OCPP event loop (`OCPPExecutor.sleep`): the timers of the charge point wake its
    /// own thread, not a dispatch timer thread.
    public static let systemSleeper: Sleeper = OCPPExecutor.sleep

    enum Input: Sendable {
        case up, down
        case station(StationEvent)
    }

    let identity: Identity
    let sender: any OCPP16CallSender
    let station: any StationPort
    public nonisolated let transactions: TransactionService
    public nonisolated let smartCharging: SmartChargingService
    var configuration: ConfigurationService
    let localList: LocalListService
    let unixMs: @Sendable () -> UInt64
    let sleep: Sleeper
    /// The live connection's ping interval (WebSocketPingInterval applies at once).
    let pingInterval: PingIntervalSetting?
    let logger: Logger
    /// Retry wait after a BootNotification that got no usable answer, or a 0 interval.
    let bootRetry: EVSEDuration

    public internal(set) var registration: Registration = .notRegistered
    public private(set) var isConnected = false
    /// When the CSMS last answered BootNotification: its clock, for reference.
    public internal(set) var csmsTime: String?

    private let online = Mutex(false)
    /// Sessions as the events tell them, ahead of the station's snapshot (which is refreshed
    /// after the loop step that emitted them): started by connector, and ended ids.
    private let sessionEvents = Mutex<(started: [Int: Session], ended: Set<String>)>((started: [:], ended: []))
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation
    let outboxKicks: AsyncStream<Void>
    let outboxKick: AsyncStream<Void>.Continuation
    let statusKicks: AsyncStream<Void>
    let statusKick: AsyncStream<Void>.Continuation
    private var tasks: [Task<Void, Never>] = []
    // Each service's state, kept here because it is the actor's (its code: BootAndHeartbeat,
    // StatusNotifications, TransactionOutbox, Metering).
    var boot = BootProgress()
    var statuses = StatusNotificationState()
    var transactionOutbox = TransactionOutboxState()
    var metering = MeteringSchedule()
    /// The task that sleeps until the next sample, aligned boundary or price trigger.
    var meteringTask: Task<Void, Never>?
    /// A Reset is being carried out: another one is Rejected.
    var resetInProgress = false
    var security = SecurityService.disabled
    /// California Pricing: the RunningCost triggers of running transactions.
    var pricing = CaliforniaPricingService()
    /// The station's security log, which is also the queue of events owed to the CSMS.
    nonisolated let securityLog: SecurityEventLog
    var sendingSecurityEvents = false
    /// FirmwareManagement, SignedUpdateFirmware and GetLog (nil: those are NotImplemented).
    let fileServices: OCPP16FileServices?
    public nonisolated let firmware: FirmwareService?
    public nonisolated let diagnostics: DiagnosticsService?
    public nonisolated let fileStatusOutbox: FileStatusOutbox
    /// The handler of each inbound CALL, as the features registered them (OperationRegistry).
    public nonisolated let operations: OCPP16OperationRegistry
    /// The event loop the actor's jobs run on (`OCPPExecutor.actorLoop`): where a CALL that
    /// needs no suspension can be answered at once (`answerImmediately`).
    public nonisolated let executorLoop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executorLoop.executor.asUnownedSerialExecutor() }

    public init(identity: Identity, sender: any OCPP16CallSender, station: any StationPort,
                storage: StationStorage, numberOfConnectors: Int,
                unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping Sleeper = OCPP16ChargePoint.systemSleeper,
                bootRetry: EVSEDuration = .seconds(Int64(10)),
                files: OCPP16FileServices? = nil, pingInterval: PingIntervalSetting? = nil,
                executorLoop: any EventLoop = OCPPExecutor.actorLoop(),
                logger: Logger = Logger(label: "ocpp16")) {
        self.identity = identity
        self.executorLoop = executorLoop
        self.pingInterval = pingInterval
        self.sender = sender
        self.station = station
        self.transactions = TransactionService(journal: storage.journal)
        self.configuration = ConfigurationService(store: storage.config, numberOfConnectors: numberOfConnectors)
        self.localList = LocalListService(store: storage.localList)
        self.securityLog = storage.securityLog
        self.smartCharging = SmartChargingService(store: storage.config, station: station, numberOfConnectors: numberOfConnectors)
        self.unixMs = unixMs
        self.sleep = sleep
        self.bootRetry = bootRetry
        transactions.setStopTransactionMeasurands(sampled: configuration.measurands("StopTxnSampledData"),
                                                  aligned: configuration.measurands("StopTxnAlignedData"))
        self.logger = logger
        let outbox = FileStatusOutbox()
        fileStatusOutbox = outbox
        fileServices = files
        firmware = files.map { FirmwareService(settings: $0.firmware, store: storage.config,
                                               storeKey: ConfigurationService.storePrefix + "firmware.update", station: station,
                                               reporter: outbox, unixMs: unixMs, sleep: sleep, logger: logger) }
        diagnostics = files.map { DiagnosticsService(settings: $0.uploads, storage: storage, reporter: outbox,
                                                     unixMs: unixMs, sleep: sleep, logger: logger) }
        operations = Self.operations(firmware: firmware != nil, diagnostics: diagnostics != nil)
        (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self)
        (outboxKicks, outboxKick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (statusKicks, statusKick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Inputs (any thread, in order)

    public nonisolated func connectionUp() { inputContinuation.yield(.up) }
    public nonisolated func connectionDown() { inputContinuation.yield(.down) }

    /// A station event (the port's events arrive here, in order). A session start or end
    /// arrives with its message already queued on disk, in the journal transaction that
    /// recorded it (`TransactionService.messagesOwed`).
    public nonisolated func stationEvent(_ event: StationEvent) {
        switch event {
        case .sessionStarted(let session):
            sessionEvents.locked { $0.started[session.connectorId] = session }
        case .sessionEnded(let session):
            sessionEvents.locked { e in
                if e.started[session.connectorId]?.id == session.id { e.started[session.connectorId] = nil }
                e.ended.insert(session.id)
                // Only the latest few matter (a snapshot lags by one loop step at most).
                if e.ended.count > 256 { e.ended.removeAll(); e.ended.insert(session.id) }
            }
            smartCharging.transactionEnded(connectorId: session.connectorId)
        case .statusChanged, .authorizationNeeded, .sessionUpdated, .meterSample, .reservationEnded: break
        case .localChargingLimit: return  // OCPP 1.6 has no message for the station's own limits
        case .preludeChanged: return  // a 1.6 transaction begins with the session, not its prelude
        }
        inputContinuation.yield(.station(event))
    }

    /// Starts the loops; `stop()` ends them.
    public func start() {
        guard tasks.isEmpty else { return }
        // The rules the CSMS set (kept on disk) govern the station from the start.
        station.submit(.authorizationRules(configuration.authorizationRules))
        station.submit(.sessionRules(configuration.sessionRules))
        applyDisplayKeys()
        let events = station.events
        tasks.append(Task { for await event in events { self.stationEvent(event) } })
        tasks.append(Task { await self.consumeInputs() })
        tasks.append(Task { await self.deliverOutboxForever() })
        tasks.append(Task { await self.sendStatusesForever() })
        meteringTask = Task { await self.sampleMeterValuesForever() }
        tasks.append(Task { await self.runFileServices() })
    }

    public func stop() {
        for task in tasks { task.cancel() }
        boot.task?.cancel()
        boot.heartbeat?.cancel()
        boot.certificateRenewal?.cancel()
        meteringTask?.cancel()
        meteringTask = nil
        tasks.removeAll()
        inputContinuation.finish()
        outboxKick.finish()
        statusKick.finish()
        fileStatusOutbox.finish()
        Task { [firmware, diagnostics] in
            await firmware?.shutDown()
            await diagnostics?.shutDown()
        }
    }

    private func consumeInputs() async {
        for await input in inputs {
            switch input {
            case .up:
                isConnected = true
                updateOnline()
                if registration == .accepted {
                    // Same registration, new socket: report where things stand, then the queue.
                    await queueFullStatusReport()
                    outboxKick.yield()
                    fileStatusOutbox.kick()
                    restartHeartbeat()
                } else {
                    startBoot()
                }
            case .down:
                isConnected = false
                updateOnline()
            case .station(let event):
                handleStationEvent(event)
            }
        }
    }

    private func handleStationEvent(_ event: StationEvent) {
        switch event {
        case let .statusChanged(id, status, error, at):
            statusChanged(id, status, error, atUnixMs: at)
        case .sessionStarted, .sessionEnded:
            outboxKick.yield()
        case .authorizationNeeded(let token):
            Task { await self.authorizeForStation(token) }
        case .sessionUpdated, .meterSample, .reservationEnded, .localChargingLimit, .preludeChanged:
            break  // a 1.6 transaction begins with the session, not its prelude
        }
        pricingTriggers(event)
    }

    /// The session running on a connector, as the events told it.
    nonisolated func startedSession(onConnector id: Int) -> Session? {
        sessionEvents.locked { $0.started[id] }
    }

    /// The station's connectors now (asked through the port), with the sessions the events
    /// already told of. For reports; decisions are the station's (requests).
    func connectors() async -> [ConnectorSnapshot] {
        let fresh = await station.connectors()
        statuses.knownConnectors = fresh
        return withSessionEvents(fresh)
    }

    private nonisolated func withSessionEvents(_ connectors: [ConnectorSnapshot]) -> [ConnectorSnapshot] {
        let events = sessionEvents.locked { $0 }
        return connectors.map { c in
            var c = c
            if let started = events.started[c.id] {
                c.session = started
            } else if let session = c.session, events.ended.contains(session.id) {
                c.session = nil
            }
            return c
        }
    }

    // MARK: Typed calls

    /// Sends one request and decodes its answer.
    func send<R: OCPP16RequestPayload>(_ request: R) async throws(OCPPRPCError) -> R.Response {
        let answer = try await sender.call(R.action.rawValue, payload: request.toJSON())
        do {
            return try R.Response(json: answer)
        } catch {
            throw .malformedResponse("\(R.action.rawValue) answer: \(error)")
        }
    }

    var mayInitiate: Bool { isConnected && registration == .accepted }

    /// Connected and accepted: an Authorize can be asked now (any thread).
    public nonisolated var isOnline: Bool { online.locked { $0 } }

    func updateOnline() {
        let value = mayInitiate
        let changed = online.locked { was in defer { was = value }; return was != value }
        // Tokens go to the CSMS while it can be asked.
        if changed { station.submit(.backendConnection(online: value)) }
    }
}
