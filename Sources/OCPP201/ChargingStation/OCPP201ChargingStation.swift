import ChargingCore
import FirmwareUpdate
import HAL
import LogUpload
import Logging
import NIOCore
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization

/// The OCPP 2.0.1 charging station: registers with the CSMS, reports the station's EVSEs and
/// transactions, and carries out the CSMS's requests through the station port. It holds no
/// charging logic: the station's core decides, this translates. One EVSE per station connector
/// (connector n is EVSE n, with connector 1).
///
/// Inputs arrive in order through `connectionUp()`, `connectionDown()` and `stationEvent(_:)`
/// (any thread); inbound CALLs through `answer(action:payload:)` (the RPC layer's handler).
public actor OCPP201ChargingStation {
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

    /// On the OCPP event loop (`OCPPExecutor.sleep`), as the 1.6 charge point's: `Task.sleep`
    /// would wake on a libdispatch timer thread, one more thread for nothing.
    public static let systemSleeper: Sleeper = OCPPExecutor.sleep

    enum Input: Sendable {
        case up, down
        case station(StationEvent)
    }

    let identity: Identity
    let sender: any OCPP201CallSender
    let station: any StationPort
    /// The durable TransactionEvent queue (the session journal's outbox).
    public nonisolated let transactions: TransactionEventService
    /// The CSMS's charging profiles, persisted, fed to the station's power allocation.
    nonisolated let smartCharging: SmartChargingService
    public internal(set) var settings: OCPP201Settings
    let localList: LocalAuthorizationListStore
    /// Read and, for CustomerInformation's clear, an entry removed (the core reads it at its next lookup).
    let authorizationCache: AuthorizationCacheStore
    /// The station's security log, which is also the queue of events owed to the CSMS.
    nonisolated let securityLog: SecurityEventLog
    /// The CSMS's display messages, kept across restarts (`DisplayMessageService`).
    nonisolated let displayMessages: DisplayMessageStore
    var sendingSecurityEvents = false
    let unixMs: @Sendable () -> UInt64
    let sleep: Sleeper
    let logger: Logger
    /// Retry wait after a BootNotification that got no usable answer, or a 0 interval.
    let bootRetry: EVSEDuration
    /// What the BootNotification says the boot was (PowerUp; ApplicationReset after a Reset).
    let bootReason: BootNotificationRequest.BootReasonEnumType

    public internal(set) var registration: Registration = .notRegistered
    public private(set) var isConnected = false
    /// When the CSMS last answered BootNotification or Heartbeat: its clock, for reference.
    public internal(set) var csmsTime: String?

    private let online = Mutex(false)
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation
    let outboxKicks: AsyncStream<Void>
    let outboxKick: AsyncStream<Void>.Continuation
    let statusKicks: AsyncStream<Void>
    let statusKick: AsyncStream<Void>.Continuation
    private var tasks: [Task<Void, Never>] = []
    // Each service's state, kept here because it is the actor's.
    var boot = BootState()
    var statuses = StatusState()
    /// When the connection was lost (wall clock, ms); nil while connected.
    var disconnectedAtMs: UInt64?
    var outbox = OutboxState()
    var metering = MeteringState()
    /// The task that sleeps until the next sample or aligned boundary.
    var meteringTask: Task<Void, Never>?
    var resets = ResetState()
    /// The transaction running on each EVSE (a session's id, or a prelude's whose transaction
    /// began before the session): monitor events carry it, and monitors set for transactions
    /// only speak while there is one.
    var runningSessions: [Int: String] = [:]
    /// The station's own limits per EVSE and what the CSMS heard of them (ChargingLimitService).
    var chargingLimits = ChargingLimitReports()
    /// The handler of each inbound CALL, as the services registered them.
    public nonisolated let operations: OCPP201OperationRegistry
    /// The event loop the actor's jobs run on (`OCPPExecutor.actorLoop`): where a CALL that
    /// needs no suspension can be answered at once (`answerImmediately`).
    public nonisolated let executorLoop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executorLoop.executor.asUnownedSerialExecutor() }
    /// The installed roots, the station key and certificate, the stored password (block A);
    /// nil: the certificate operations answer Failed / Rejected / NotFound.
    public nonisolated let pki: OCPP201PKI?
    /// The CSMS connection profiles of SetNetworkProfile, by configuration slot (block B).
    public nonisolated let networkProfiles: NetworkProfileStore
    /// The security profile of the connection in use (0–3): a network profile may not lower it,
    /// and under 2 and 3 the last CSMS root stays installed.
    public internal(set) var securityProfile: Int
    /// The shared firmware update (block L) and log upload (block N), and their notifications;
    /// nil: UpdateFirmware / GetLog are Rejected.
    public nonisolated let firmware: FirmwareService?
    public nonisolated let logs: DiagnosticsService?
    nonisolated let fileStatuses: FileStatusQueue?
    /// Bumped by every SignCertificate round and every accepted CertificateSigned: a round
    /// repeats only while it is the latest and unanswered.
    var stationCertificateRequests = 0
    /// What the connection owner (`OCPP201Client`) does for the station.
    var connectionHooks = ConnectionHooks()

    /// The device model the settings come from and GetVariables, SetVariables, the reports and
    /// monitoring are answered with (`DeviceModelService`); nil: spec defaults, those actions
    /// NotImplemented.
    public nonisolated let deviceModel: DeviceModel?

    /// `external`: operations served outside the adapter (the device model's).
    public init(identity: Identity, sender: any OCPP201CallSender, station: any StationPort,
                storage: StationStorage, settings: OCPP201Settings = OCPP201Settings(),
                unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping Sleeper = OCPP201ChargingStation.systemSleeper,
                bootRetry: EVSEDuration = .seconds(Int64(10)),
                bootReason: BootNotificationRequest.BootReasonEnumType = .powerUp,
                external: OCPP201OperationRegistry = OCPP201OperationRegistry(),
                deviceModel: DeviceModel? = nil, pki: OCPP201PKI? = nil, securityProfile: Int = 0,
                firmware: FirmwareUpdateSettings? = nil, uploads: UploadSettings? = nil,
                executorLoop: any EventLoop = OCPPExecutor.actorLoop(),
                logger: Logger = Logger(label: "ocpp201")) {
        self.executorLoop = executorLoop
        let settings = deviceModel.map { OCPP201Settings(variables: $0.variables, base: settings) } ?? settings
        self.deviceModel = deviceModel
        self.pki = pki
        self.networkProfiles = NetworkProfileStore(store: storage.config)
        self.securityProfile = securityProfile
        let fileStatuses = firmware != nil || uploads != nil ? FileStatusQueue() : nil
        self.fileStatuses = fileStatuses
        self.firmware = firmware.flatMap { settings in
            fileStatuses.map { queue in
                FirmwareService(settings: settings, store: storage.config, storeKey: "ocpp201.firmware.update", station: station,
                                reporter: queue, unixMs: unixMs, sleep: sleep, logger: logger)
            }
        }
        self.logs = uploads.flatMap { settings in
            fileStatuses.map { queue in
                DiagnosticsService(settings: settings, storage: storage, reporter: queue, unixMs: unixMs, sleep: sleep, logger: logger)
            }
        }
        self.identity = identity
        self.sender = sender
        self.station = station
        self.settings = settings
        self.transactions = TransactionEventService(journal: storage.journal, logger: logger)
        self.localList = storage.localList
        self.authorizationCache = storage.authorizationCache
        self.securityLog = storage.securityLog
        self.displayMessages = storage.displayMessages
        self.smartCharging = SmartChargingService(store: storage.config, station: station, logger: logger)
        self.unixMs = unixMs
        self.sleep = sleep
        self.bootRetry = bootRetry
        self.bootReason = bootReason
        self.logger = logger
        operations = Self.operations(external: external, deviceModel: deviceModel != nil)
        (inputs, inputContinuation) = AsyncStream.makeStream(of: Input.self)
        (outboxKicks, outboxKick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (statusKicks, statusKick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        transactions.setTxEndedMeasurands(settings.sampledDataTxEndedMeasurands)
        transactions.setTransactionStartPoints(settings.txStartPoint)
    }

    // MARK: Inputs (any thread, in order)

    public nonisolated func connectionUp() { inputContinuation.yield(.up) }
    public nonisolated func connectionDown() { inputContinuation.yield(.down) }

    /// A station event (the port's events arrive here, in order). A session start or end
    /// arrives with its TransactionEvent already queued on disk (`TransactionEventService.messagesOwed`).
    public nonisolated func stationEvent(_ event: StationEvent) { inputContinuation.yield(.station(event)) }

    /// New settings (the device model changed a variable): they govern the next decision.
    public func apply(_ new: OCPP201Settings) {
        let rulesChanged = new.authorizationRules != settings.authorizationRules || new.sessionRules != settings.sessionRules
        let displayChanged = new.displayLanguage != settings.displayLanguage
            || new.tariffFallbackMessage != settings.tariffFallbackMessage || new.tariffEnabled != settings.tariffEnabled
        let heartbeatChanged = new.heartbeatInterval != settings.heartbeatInterval
        let meteringChanged = new.sampledDataTxUpdatedInterval != settings.sampledDataTxUpdatedInterval
            || new.alignedDataInterval != settings.alignedDataInterval
        settings = new
        if heartbeatChanged { restartHeartbeat() }
        if meteringChanged { restartMetering() }
        if displayChanged { showStationTexts() }
        transactions.setTxEndedMeasurands(new.sampledDataTxEndedMeasurands)
        transactions.setTransactionStartPoints(new.txStartPoint)
        if rulesChanged {
            station.submit(.authorizationRules(new.authorizationRules))
            station.submit(.sessionRules(new.sessionRules))
        }
    }

    /// Starts the loops; `stop()` ends them.
    public func start() {
        guard tasks.isEmpty else { return }
        attachDeviceModel()
        station.submit(.authorizationRules(settings.authorizationRules))
        station.submit(.sessionRules(settings.sessionRules))
        showStationTexts()
        restoreDisplayMessages()
        let events = station.events
        tasks.append(Task { for await event in events { self.stationEvent(event) } })
        tasks.append(Task { await self.consumeInputs() })
        tasks.append(Task { await self.deliverOutboxForever() })
        tasks.append(Task { await self.sendStatusesForever() })
        meteringTask = Task { await self.meterValuesForever() }
        if let queue = fileStatuses {
            queue.setSecurityEventRecorder { [weak self] type, techInfo in
                guard let self else { return }
                self.recordSecurityEvent(type, atUnixMs: self.unixMs(), techInfo: techInfo)
            }
            tasks.append(Task { await self.deliverFileStatusesForever() })
        }
        if let firmware {
            // An update a restart interrupted (or the restart into a new image) goes on.
            let roots = pki?.certificates
            tasks.append(Task { await firmware.resume(verifier: { roots.flatMap { try? FirmwareSignatureVerifier(store: $0) } }) })
        }
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
        fileStatuses?.finish()
        if let firmware { Task { await firmware.shutDown() } }
        if let logs { Task { await logs.shutDown() } }
    }

    private func consumeInputs() async {
        for await input in inputs {
            switch input {
            case .up:
                isConnected = true
                updateOnline()
                let offlineMs = disconnectedAtMs.map { unixMs() &- $0 } ?? 0
                disconnectedAtMs = nil
                if registration == .accepted {
                    // Same registration, new socket. Offline longer than OfflineThreshold: where
                    // every connector stands now; a shorter gap: the changes queued meanwhile.
                    if offlineMs > UInt64(max(0, settings.offlineThreshold)) * 1_000 {
                        await queueFullStatusReport()
                    } else {
                        statusKick.yield()
                    }
                    outboxKick.yield()
                    restartHeartbeat()
                } else {
                    startBoot()
                }
            case .down:
                if disconnectedAtMs == nil { disconnectedAtMs = unixMs() }
                isConnected = false
                updateOnline()
            case .station(let event):
                await handleStationEvent(event)
            }
        }
    }

    private func handleStationEvent(_ event: StationEvent) async {
        switch event {
        case let .statusChanged(id, status, _, at):
            statusChanged(id, status, atUnixMs: at)
            if id > 0 { reportAvailability(evseId: id, OCPP201Terms.connectorStatus(status), atUnixMs: at) }
            await chargingStateMayHaveChanged(connectorId: id, status, atUnixMs: at)
        case .sessionStarted(let session):
            runningSessions[session.connectorId] = session.id
            outboxKick.yield()
        case .sessionEnded(let session):
            runningSessions[session.connectorId] = nil
            transactionEnded(session)
            if !isOnline { showTotalCostFallback(transactionId: session.id) }
            displayMessagesOfTransactionEnded(session.id)
            smartCharging.transactionEnded(evseId: session.connectorId)
            outboxKick.yield()
        case let .preludeChanged(id, prelude):
            // A transaction begun or ended with it (TxStartPoint EVConnected, Authorized): its
            // events are queued; monitors name it from now on (until then, or after, nothing).
            if let prelude, transactions.hasBegun(prelude.id) {
                runningSessions[id] = prelude.id
            } else if prelude == nil {
                runningSessions[id] = nil
            }
            outboxKick.yield()
        case .authorizationNeeded(let token):
            Task { await self.authorizeForStation(token) }
        case let .reservationEnded(id, reason):
            reservationEnded(id: id, reason)
        case let .meterSample(id, sample):
            reportPower(evseId: id, sample)
        case let .localChargingLimit(id, amps):
            localChargingLimitChanged(evseId: id, amps: amps)
        case .sessionUpdated:
            break
        }
    }

    /// The station's connectors now, in id order (EVSE n is connector n).
    func connectors() async -> [ConnectorSnapshot] { await station.connectors() }

    // MARK: Typed calls

    /// Sends one request and decodes its answer.
    func send<R: OCPP201RequestPayload>(_ request: R) async throws(OCPPRPCError) -> R.Response {
        let answer = try await sender.call(R.action.rawValue, payload: request.toJSON())
        do {
            return try R.Response(json: answer)
        } catch {
            throw .malformedResponse("\(R.action.rawValue) answer: \(error)")
        }
    }

    var mayInitiate: Bool { isConnected && registration == .accepted }

    /// Connected and accepted (any thread).
    public nonisolated var isOnline: Bool { online.locked { $0 } }

    func updateOnline() {
        let value = mayInitiate
        let changed = online.locked { was in defer { was = value }; return was != value }
        transactions.setOnline(value)
        // Tokens go to the CSMS while it can be asked.
        if changed { station.submit(.backendConnection(online: value)) }
        if changed, value { fileStatuses?.wake() }
        if changed, value { reportChargingLimits() }
    }
}
