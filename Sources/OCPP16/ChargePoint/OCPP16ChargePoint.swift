import StationPort
import ChargingCore
import HAL
import Logging
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
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

    public static let systemSleeper: Sleeper = { duration in
        try? await Task.sleep(for: .microseconds(max(0, duration.microseconds)))
    }

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

    public private(set) var registration: Registration = .notRegistered
    public private(set) var isConnected = false
    /// When the CSMS last answered BootNotification: its clock, for reference.
    public private(set) var csmsTime: String?

    private let online = Mutex(false)
    /// Sessions as the events tell them, ahead of the station's snapshot (which is refreshed
    /// after the loop step that emitted them): started by connector, and ended ids.
    private let sessionEvents = Mutex<(started: [Int: Session], ended: Set<String>)>((started: [:], ended: []))
    private let inputs: AsyncStream<Input>
    private let inputContinuation: AsyncStream<Input>.Continuation
    private let outboxKicks: AsyncStream<Void>
    private let outboxKick: AsyncStream<Void>.Continuation
    private let statusKicks: AsyncStream<Void>
    private let statusKick: AsyncStream<Void>.Continuation
    private var tasks: [Task<Void, Never>] = []
    private var bootTask: Task<Void, Never>?
    /// A BootNotification is waiting for its answer; CSMS calls that arrive meanwhile wait too.
    private var bootOutstanding = false
    private var bootWaiters: [CheckedContinuation<Void, Never>] = []
    private var heartbeatTask: Task<Void, Never>?
    /// StatusNotifications owed to the CSMS, oldest first.
    var statusQueue: [StatusNotificationRequest] = []
    /// The latest status of each connector (0 = the charge point), for the report after boot.
    var latestStatus: [Int: (ConnectorStatus, ConnectorErrorKind?)] = [:]
    /// What the CSMS was last told (or will be: queued) per connector, and a counter per
    /// connector that tells a status that held for MinimumStatusDuration from one that did not.
    private var reportedStatus: [Int: ReportedStatus] = [:]
    /// The connectors as last asked of the station (for connector 0's status between reports).
    private var knownConnectors: [ConnectorSnapshot] = []
    private var statusGeneration: [Int: Int] = [:]
    /// Outbox failures per message in this run (offline time is not counted).
    private var failures: [Int64: Int] = [:]
    var resetInProgress = false
    /// A hard reset is under way: nothing more leaves the queue before the restart.
    var holdOutbox = false
    private var metering = MeteringSchedule()
    var security = SecurityService.disabled
    /// The station's security log, which is also the queue of events owed to the CSMS.
    nonisolated let securityLog: SecurityEventLog
    var sendingSecurityEvents = false
    /// FirmwareManagement, SignedUpdateFirmware and GetLog (nil: those are NotImplemented).
    let fileServices: OCPP16FileServices?
    public nonisolated let firmware: FirmwareService?
    public nonisolated let diagnostics: DiagnosticsService?
    public nonisolated let fileStatusOutbox: FileStatusOutbox

    public init(identity: Identity, sender: any OCPP16CallSender, station: any StationPort,
                storage: StationStorage, numberOfConnectors: Int,
                unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping Sleeper = OCPP16ChargePoint.systemSleeper,
                bootRetry: EVSEDuration = .seconds(Int64(10)),
                files: OCPP16FileServices? = nil, pingInterval: PingIntervalSetting? = nil,
                logger: Logger = Logger(label: "ocpp16")) {
        self.identity = identity
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
        firmware = files.map { FirmwareService(settings: $0, store: storage.config, station: station, outbox: outbox,
                                               unixMs: unixMs, sleep: sleep, logger: logger) }
        diagnostics = files.map { DiagnosticsService(settings: $0, storage: storage, outbox: outbox,
                                                     unixMs: unixMs, sleep: sleep, logger: logger) }
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
            sessionEvents.withLock { $0.started[session.connectorId] = session }
        case .sessionEnded(let session):
            sessionEvents.withLock { e in
                if e.started[session.connectorId]?.id == session.id { e.started[session.connectorId] = nil }
                e.ended.insert(session.id)
                // Only the latest few matter (a snapshot lags by one loop step at most).
                if e.ended.count > 256 { e.ended.removeAll(); e.ended.insert(session.id) }
            }
            smartCharging.transactionEnded(connectorId: session.connectorId)
        case .statusChanged, .authorizationNeeded, .sessionUpdated, .meterSample, .reservationEnded: break
        }
        inputContinuation.yield(.station(event))
    }

    /// Starts the loops; `stop()` ends them.
    public func start() {
        guard tasks.isEmpty else { return }
        // The rules the CSMS set (kept on disk) govern the station from the start.
        station.submit(.authorizationRules(configuration.authorizationRules))
        station.submit(.sessionRules(configuration.sessionRules))
        let events = station.events
        tasks.append(Task { for await event in events { self.stationEvent(event) } })
        tasks.append(Task { await self.consumeInputs() })
        tasks.append(Task { await self.deliverOutboxForever() })
        tasks.append(Task { await self.sendStatusesForever() })
        tasks.append(Task { await self.sampleMeterValuesForever() })
        tasks.append(Task { await self.runFileServices() })
    }

    public func stop() {
        for task in tasks { task.cancel() }
        bootTask?.cancel()
        heartbeatTask?.cancel()
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
        case .sessionUpdated, .meterSample, .reservationEnded:
            break
        }
    }

    /// The station's connectors now (asked through the port), with the sessions the events
    /// already told of. For reports; decisions are the station's (requests).
    func connectors() async -> [ConnectorSnapshot] {
        let fresh = await station.connectors()
        knownConnectors = fresh
        return withSessionEvents(fresh)
    }

    private nonisolated func withSessionEvents(_ connectors: [ConnectorSnapshot]) -> [ConnectorSnapshot] {
        let events = sessionEvents.withLock { $0 }
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
    public nonisolated var isOnline: Bool { online.withLock { $0 } }

    private func updateOnline() {
        let value = mayInitiate
        let changed = online.withLock { was in defer { was = value }; return was != value }
        // Tokens go to the CSMS while it can be asked.
        if changed { station.submit(.backendConnection(online: value)) }
    }

    // MARK: Registration and heartbeat

    private func startBoot() {
        guard bootTask == nil else { return }
        bootTask = Task { await self.bootUntilAccepted() }
    }

    private func bootUntilAccepted() async {
        defer { bootTask = nil }
        while !Task.isCancelled, isConnected, registration != .accepted {
            let request = BootNotificationOperation.request(identity)
            do {
                let answer = try await sendBoot(request)
                csmsTime = answer.currentTime
                let interval = answer.interval > 0 ? EVSEDuration.seconds(Int64(answer.interval)) : bootRetry
                switch answer.status {
                case .accepted:
                    registration = .accepted
                    updateOnline()
                    logger.notice("BootNotification accepted; heartbeat every \(answer.interval) s")
                    if answer.interval > 0 { _ = configuration.change("HeartbeatInterval", to: String(answer.interval)) }
                    await registered()
                    return
                case .pending:
                    registration = .pending
                    logger.notice("BootNotification pending; again in \(interval)")
                case .rejected:
                    registration = .rejected
                    logger.warning("BootNotification rejected; again in \(interval)")
                }
                await sleep(interval)
            } catch {
                logger.warning("BootNotification: \(error)")
                await sleep(bootRetry)
            }
        }
    }

    /// Sends a BootNotification; CSMS calls that arrive before its answer is read wait for it.
    /// They run once this task gives up the actor, so they see the registration it set.
    private func sendBoot(_ request: BootNotificationRequest) async throws(OCPPRPCError) -> BootNotificationResponse {
        bootOutstanding = true
        defer {
            bootOutstanding = false
            let waiting = bootWaiters
            bootWaiters.removeAll()
            for w in waiting { w.resume() }
        }
        return try await send(request)
    }

    private func registered() async {
        await queueFullStatusReport()
        outboxKick.yield()
        heartbeatTask?.cancel()
        heartbeatTask = Task { await self.heartbeatForever() }
        kickSecurityEvents()
        fileStatusOutbox.kick()
    }

    /// Ticks every second so a changed HeartbeatInterval applies at once.
    private func heartbeatForever() async {
        var elapsed = 0
        while !Task.isCancelled {
            await sleep(.seconds(Int64(1)))
            if Task.isCancelled { return }
            elapsed += 1
            let seconds = configuration.int("HeartbeatInterval") ?? 0
            guard seconds > 0, elapsed >= seconds, mayInitiate else { continue }
            elapsed = 0
            do { _ = try await send(HeartbeatRequest()) } catch { logger.info("Heartbeat: \(error)") }
        }
    }

    // MARK: Status notifications

    /// A status as the CSMS was (or will be) told it.
    struct ReportedStatus: Hashable {
        var status: ConnectorStatus
        var error: ConnectorErrorKind?
    }

    /// What to report for `id` now (0: the charge point as a whole, Unavailable only when every
    /// connector is): for the report after boot and for TriggerMessage / ExtendedTriggerMessage.
    func currentStatusRequest(_ id: Int, connectors: [ConnectorSnapshot], atUnixMs now: UInt64)
        -> StatusNotificationRequest
    {
        if id == 0 {
            let status = Self.chargePointStatus(connectors.map { latestStatus[$0.id]?.0 ?? $0.status })
            return Self.statusRequest(connectorId: 0, status: status, error: nil, atUnixMs: now)
        }
        let c = connectors.first { $0.id == id }
        let status = latestStatus[id]?.0 ?? c?.status ?? .available
        let error = latestStatus[id]?.1 ?? c?.error
        return Self.statusRequest(connectorId: id, status: status, error: error, atUnixMs: now)
    }

    /// After boot (or a reconnect): the status of connector 0 and of every connector now.
    private func queueFullStatusReport() async {
        let now = unixMs()
        let connectors = await self.connectors()
        statusQueue = ([0] + connectors.map(\.id)).map { currentStatusRequest($0, connectors: connectors, atUnixMs: now) }
        for c in connectors {
            if let latest = latestStatus[c.id] ?? c.status.map({ ($0, c.error) }) {
                reportedStatus[c.id] = ReportedStatus(status: latest.0, error: latest.1)
            }
        }
        reportedStatus[0] = ReportedStatus(status: Self.chargePointStatus(connectors.map { latestStatus[$0.id]?.0 ?? $0.status }),
                                           error: nil)
        statusKick.yield()
    }

    /// Connector 0 stands for the charge point as a whole: Unavailable only when every
    /// connector is (after a ChangeAvailability of connector 0, say), Available otherwise.
    static func chargePointStatus(_ connectors: [ConnectorStatus?]) -> ConnectorStatus {
        !connectors.isEmpty && connectors.allSatisfy { $0 == .unavailable } ? .unavailable : .available
    }

    /// A status change of the core, reported once it has held for MinimumStatusDuration seconds
    /// (at once when that is 0). A change that is undone within that time is not reported.
    private func statusChanged(_ id: Int, _ status: ConnectorStatus, _ error: ConnectorErrorKind?, atUnixMs at: UInt64) {
        latestStatus[id] = (status, error)
        let generation = (statusGeneration[id] ?? 0) &+ 1
        statusGeneration[id] = generation
        let minimum = configuration.int("MinimumStatusDuration") ?? 0
        guard minimum > 0 else {
            queueStatus(id, ReportedStatus(status: status, error: error), atUnixMs: at)
            return
        }
        Task {
            await sleep(.seconds(Int64(minimum)))
            statusHeld(id, generation: generation, ReportedStatus(status: status, error: error), atUnixMs: at)
        }
    }

    private func statusHeld(_ id: Int, generation: Int, _ status: ReportedStatus, atUnixMs at: UInt64) {
        guard statusGeneration[id] == generation else { return }  // it changed again meanwhile
        guard reportedStatus[id] != status else { return }  // back to what the CSMS knows
        queueStatus(id, status, atUnixMs: at)
    }

    private func queueStatus(_ id: Int, _ status: ReportedStatus, atUnixMs at: UInt64) {
        reportedStatus[id] = status
        statusQueue.append(Self.statusRequest(connectorId: id, status: status.status, error: status.error, atUnixMs: at))
        if id != 0 { queueChargePointStatusIfChanged(atUnixMs: at) }
        if statusQueue.count > 64 { statusQueue.removeFirst(statusQueue.count - 64) }
        statusKick.yield()
    }

    /// Connector 0 follows what the CSMS was told of the connectors: reported once when that
    /// turns it Unavailable or Available again, as the report after a boot would say it (before
    /// the first report there is nothing to follow: that report tells it).
    private func queueChargePointStatusIfChanged(atUnixMs at: UInt64) {
        let connectors = knownConnectors
        let zero = Self.chargePointStatus(connectors.map { c in reportedStatus[c.id]?.status ?? latestStatus[c.id]?.0 ?? c.status })
        guard let told = reportedStatus[0]?.status, told != zero else { return }
        reportedStatus[0] = ReportedStatus(status: zero, error: nil)
        statusQueue.append(Self.statusRequest(connectorId: 0, status: zero, error: nil, atUnixMs: at))
    }

    private func sendStatusesForever() async {
        for await _ in statusKicks {
            while mayInitiate, !statusQueue.isEmpty {
                let request = statusQueue.removeFirst()
                do { _ = try await send(request) } catch {
                    logger.info("StatusNotification: \(error)")
                    if case .connectionLost = error { statusQueue.insert(request, at: 0) }
                }
            }
        }
    }

    static func statusRequest(connectorId: Int, status: ConnectorStatus, error: ConnectorErrorKind?, atUnixMs: UInt64)
        -> StatusNotificationRequest
    {
        let (code, vendorCode) = StatusNotificationOperation.errorCode(error)
        return StatusNotificationRequest(
            connectorId: connectorId, errorCode: code, info: nil,
            status: StatusNotificationRequest.ChargePointStatus(rawValue: status.rawValue) ?? .faulted,
            timestamp: OCPP16Timestamp.string(unixMs: atUnixMs),
            vendorId: vendorCode == nil ? nil : "SwiftEVSE", vendorErrorCode: vendorCode)
    }

    // MARK: Transaction outbox

    public nonisolated func kickOutbox() { outboxKick.yield() }

    private func deliverOutboxForever() async {
        // A periodic kick as well: a retry that fell due, a reconnect noticed late.
        let ticker = Task { [outboxKick, sleep] in
            while !Task.isCancelled {
                await sleep(.seconds(Int64(1)))
                outboxKick.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in outboxKicks { await deliverOutbox() }
    }

    /// Sends queued transaction messages, oldest first, while registered and connected.
    func deliverOutbox() async {
        while mayInitiate, !holdOutbox, !Task.isCancelled {
            let next = transactions.next()
            guard case let .send(seq, kind, sessionId, payload) = next else {
                if case .dropped = next { continue }
                return
            }
            transactions.markSent(seq, atUnixMs: unixMs())
            do {
                let answer = try await sender.call(kind.rawValue, payload: payload)
                try acknowledged(seq: seq, kind: kind, sessionId: sessionId, payload: payload, answer: answer)
                failures[seq] = nil
            } catch let error as OCPPRPCError {
                if case .connectionLost = error { return }  // offline time does not count
                if case .shutDown = error { return }
                let count = (failures[seq] ?? 0) + 1
                failures[seq] = count
                let attempts = configuration.int("TransactionMessageAttempts") ?? 3
                if count >= attempts {
                    logger.error("\(kind.rawValue) \(seq): \(error); given up after \(count) attempt(s)")
                    try? transactions.acknowledge(seq)
                    failures[seq] = nil
                    continue
                }
                let interval = configuration.int("TransactionMessageRetryInterval") ?? 60
                logger.warning("\(kind.rawValue) \(seq): \(error); attempt \(count) of \(attempts), again in \(interval * count) s")
                await sleep(.seconds(Int64(interval * count)))
            } catch {
                logger.critical("outbox \(seq): cannot record the answer: \(error)")
                return
            }
        }
    }

    private func acknowledged(seq: Int64, kind: TransactionService.Kind, sessionId: String?, payload: JSONValue,
                              answer: JSONValue) throws {
        switch kind {
        case .start:
            let response: StartTransactionResponse
            do { response = try StartTransactionResponse(json: answer) } catch {
                throw OCPPRPCError.malformedResponse("StartTransaction answer: \(error)")
            }
            try transactions.startAnswered(seq: seq, sessionId: sessionId, transactionId: response.transactionId)
            logger.notice("StartTransaction of \(sessionId ?? "?"): transactionId \(response.transactionId), \(response.idTagInfo.status.rawValue)")
            // The cache keeps every idTagInfo the CSMS gives (OCPP 1.6 §3.5.1), expiry included,
            // under the card's kind: a presented card is what looks it up.
            if let request = try? StartTransactionRequest(json: payload) {
                station.submit(.authorizationLearned(IdToken(request.idTag), AuthorizeOperation.info(response.idTagInfo)))
            }
            if response.idTagInfo.status != .accepted, configuration.bool("StopTransactionOnInvalidId"),
               let sessionId, let connectorId = transactions.connectorId(ofSession: sessionId) {
                station.submit(.stopSession(connectorId: connectorId, sessionId: sessionId, reason: .deAuthorized))
            }
        case .stop, .meterValues:
            try transactions.acknowledge(seq)
        }
    }

    // MARK: Authorize for the station

    private func authorizeForStation(_ token: IdToken) async {
        guard mayInitiate else {
            station.submit(.authorizationResult(token, nil))
            return
        }
        do {
            let answer = try await send(AuthorizeRequest(idTag: String(token.value.prefix(20))))
            station.submit(.authorizationResult(token, AuthorizeOperation.info(answer.idTagInfo)))
        } catch {
            logger.warning("Authorize \(token.value): \(error)")
            station.submit(.authorizationResult(token, nil))
        }
    }

    // MARK: Inbound CALLs

    /// For callers without a socket (tests, tools): the answer, and what it promised to send
    /// after it started at once. The RPC layer uses `answer(action:payload:)` instead, which
    /// leaves the start to it, after the reply is on the wire.
    public func handle(action: String, payload: JSONValue) async -> Result<JSONValue, OCPPCallError> {
        let outcome = await answer(action: action, payload: payload)
        if let afterReply = outcome.afterReply { Task { await afterReply() } }
        return outcome.result
    }

    /// The RPC layer's handler: decode and validate, then the operation's file answers; a
    /// trigger's message is the answer's `afterReply`, for the RPC layer to start.
    public func answer(action: String, payload: JSONValue) async -> OCPPCallAnswer {
        guard let known = OCPP16Action(rawValue: action) else {
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "unknown action \(action)")))
        }
        if registration == .notRegistered, bootOutstanding {
            // The CSMS answers our BootNotification before it calls us; on the socket the answer
            // is ahead of this CALL, but the boot task may not have read it yet.
            await withCheckedContinuation { bootWaiters.append($0) }
        }
        guard registration == .accepted || registration == .pending else {
            return OCPPCallAnswer(.failure(OCPPCallError(.securityError, "not registered with the Central System")))
        }
        let request: OCPP16AnyRequest
        do {
            request = try OCPP16Messages.decodeRequest(action: known, payload: payload)
        } catch {
            return OCPPCallAnswer(.failure(OCPPCallError(Self.code(error), error.description)))
        }
        if case .updateFirmware = request, fileServices?.requireSignedFirmware == true {
            return OCPPCallAnswer(.failure(OCPPCallError(.notSupported, "only SignedUpdateFirmware is accepted (security whitepaper)")))
        }
        switch request {
        case .triggerMessage(let r):
            let (response, then) = await triggerMessage(r)
            return OCPPCallAnswer(.success(response.toJSON()), afterReply: then)
        case .extendedTriggerMessage(let r):
            let (response, then) = await extendedTriggerMessage(r)
            return OCPPCallAnswer(.success(response.toJSON()), afterReply: then)
        default:
            break
        }
        guard let answer = await answer(request) else {
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "\(action) is not supported by this charge point yet")))
        }
        return OCPPCallAnswer(.success(answer))
    }

    private func answer(_ request: OCPP16AnyRequest) async -> JSONValue? {
        switch request {
        case .changeAvailability(let r): return await changeAvailability(r).toJSON()
        case .changeConfiguration(let r): return changeConfiguration(r).toJSON()
        case .clearCache(let r): return await clearCache(r).toJSON()
        case .clearChargingProfile(let r): return clearChargingProfile(r).toJSON()
        case .dataTransfer(let r): return dataTransfer(r).toJSON()
        case .getCompositeSchedule(let r): return await getCompositeSchedule(r).toJSON()
        case .getConfiguration(let r): return getConfiguration(r).toJSON()
        case .remoteStartTransaction(let r): return await remoteStartTransaction(r).toJSON()
        case .remoteStopTransaction(let r): return await remoteStopTransaction(r).toJSON()
        case .reset(let r): return reset(r).toJSON()
        case .setChargingProfile(let r): return await setChargingProfile(r).toJSON()
        case .unlockConnector(let r): return await unlockConnector(r).toJSON()
        case .installCertificate(let r): return installCertificate(r).toJSON()
        case .deleteCertificate(let r): return deleteCertificate(r).toJSON()
        case .getInstalledCertificateIds(let r): return getInstalledCertificateIds(r).toJSON()
        case .certificateSigned(let r): return certificateSigned(r).toJSON()
        case .sendLocalList(let r): return sendLocalList(r).toJSON()
        case .getLocalListVersion(let r): return getLocalListVersion(r).toJSON()
        case .reserveNow(let r): return await reserveNow(r).toJSON()
        case .cancelReservation(let r): return await cancelReservation(r).toJSON()
        case .updateFirmware(let r) where firmware != nil: return await updateFirmware(r).toJSON()
        case .signedUpdateFirmware(let r) where firmware != nil: return await signedUpdateFirmware(r).toJSON()
        case .getDiagnostics(let r) where diagnostics != nil: return await getDiagnostics(r).toJSON()
        case .getLog(let r) where diagnostics != nil: return await getLog(r).toJSON()
        default: return nil
        }
    }

    static func code(_ error: OCPPPayloadError) -> OCPPErrorCode {
        switch error {
        case .formationViolation: return .formationViolation
        case .typeConstraintViolation: return .typeConstraintViolation
        case .occurrenceConstraintViolation: return .occurrenceConstraintViolation
        case .propertyConstraintViolation: return .propertyConstraintViolation
        }
    }

    // MARK: Meter values

    /// Ticks every second so a changed MeterValueSampleInterval or ClockAlignedDataInterval
    /// applies at once.
    private func sampleMeterValuesForever() async {
        while !Task.isCancelled {
            await sleep(.seconds(Int64(1)))
            if Task.isCancelled { return }
            await meteringTick()
        }
    }

    /// One second of the metering schedule: the loop calls it every second, tests directly.
    public func meteringTick() async {
        let due = metering.tick(sampleInterval: configuration.int("MeterValueSampleInterval") ?? 0,
                                alignedInterval: configuration.int("ClockAlignedDataInterval") ?? 0,
                                unixMs: unixMs())
        guard due.sampled || due.alignedAtUnixMs != nil else { return }
        let connectors = await self.connectors()
        if due.sampled { sampleMeterValues(connectors) }
        if let boundary = due.alignedAtUnixMs { sampleClockAligned(atUnixMs: boundary, connectors) }
    }

    /// MeterValueSampleInterval elapsed: one MeterValues per charging connector, queued with its
    /// transaction, and the StopTxnSampledData kept for its StopTransaction.
    func sampleMeterValues(_ connectors: [ConnectorSnapshot]) {
        let measurands = configuration.measurands("MeterValuesSampledData")
        let forStop = configuration.measurands("StopTxnSampledData")
        let now = unixMs()
        for c in connectors {
            guard let session = c.session else { continue }
            if let value = MeterValuesOperation.meterValue(c, measurands: measurands, context: .samplePeriodic, atUnixMs: now) {
                let request = MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value])
                if transactions.enqueueMeterValues(request, session: session.id, atUnixMs: now) { outboxKick.yield() }
            }
            if let value = MeterValuesOperation.meterValue(c, measurands: forStop, context: .samplePeriodic, atUnixMs: now) {
                transactions.keepForStop(value, session: session.id, atUnixMs: now)
            }
        }
    }

    /// A ClockAlignedDataInterval boundary: MeterValuesAlignedData of every connector (queued
    /// with the transaction where one runs, sent as is otherwise) and the StopTxnAlignedData of
    /// running transactions. The values carry the boundary's time.
    func sampleClockAligned(atUnixMs boundary: UInt64, _ connectors: [ConnectorSnapshot]) {
        let measurands = configuration.measurands("MeterValuesAlignedData")
        let forStop = configuration.measurands("StopTxnAlignedData")
        var outside: [MeterValuesRequest] = []
        for c in connectors {
            let value = MeterValuesOperation.meterValue(c, measurands: measurands, context: .sampleClock, atUnixMs: boundary)
            if let session = c.session {
                if let value {
                    let request = MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value])
                    if transactions.enqueueMeterValues(request, session: session.id, atUnixMs: boundary) { outboxKick.yield() }
                }
                if let stop = MeterValuesOperation.meterValue(c, measurands: forStop, context: .sampleClock, atUnixMs: boundary) {
                    transactions.keepForStop(stop, session: session.id, atUnixMs: boundary)
                }
            } else if let value {
                outside.append(MeterValuesRequest(connectorId: c.id, transactionId: nil, meterValue: [value]))
            }
        }
        // Not transaction-related: not queued on disk; a boundary missed offline is not replayed.
        guard mayInitiate, !outside.isEmpty else { return }
        Task {
            for request in outside {
                do { _ = try await send(request) } catch { logger.info("clock-aligned MeterValues: \(error)") }
            }
        }
    }

    /// One sampling round now (tests; the loop does it every MeterValueSampleInterval).
    public func sampleMeterValuesForTesting() async { sampleMeterValues(await connectors()) }
}
