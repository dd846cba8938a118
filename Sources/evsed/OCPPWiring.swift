#if canImport(Glibc)
import SmallFiles
import Glibc
#endif
import ChargingCore
import HAL
import Logging
import OCPP16
import OCPPTransport
import Station
import Storage
import Synchronization

/// The station's side of the OCPP 1.6 adapter: the loop publishes a snapshot of the connectors
/// after every step and carries out the commands the charge point queued meanwhile.
final class StationPortBridge: OCPP16StationPort {
    private let snapshot = Mutex<[OCPP16ConnectorSnapshot]>([])
    private let inbox = Mutex<[OCPP16StationCommand]>([])

    func connectors() -> [OCPP16ConnectorSnapshot] { snapshot.withLock { $0 } }
    func perform(_ command: OCPP16StationCommand) { inbox.withLock { $0.append(command) } }

    func publish(_ connectors: [OCPP16ConnectorSnapshot]) { snapshot.withLock { $0 = connectors } }

    /// Work that needs the station's answer at once (reservations): run on the loop, answered there.
    typealias Job = @Sendable (Station, MonotonicInstant) -> Void
    private let jobs = Mutex<[Job]>([])

    func reserve(_ r: OCPP16ReservationRequest) async -> ReservationAnswer? {
        await withCheckedContinuation { (done: CheckedContinuation<ReservationAnswer?, Never>) in
            jobs.withLock { $0.append { evse, now in
                done.resume(returning: evse.reserve(connector: r.connectorId, reservationId: r.reservationId, idToken: r.idToken,
                                                    parentIdToken: r.parentIdToken, expiresAtUnixMs: r.expiresAtUnixMs, at: now))
            } }
        }
    }

    func stopSession(connectorId: Int, sessionId: String, reason: StopReason) async -> Bool {
        await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            jobs.withLock { $0.append { evse, now in
                done.resume(returning: evse.stopSession(connector: connectorId, sessionId: sessionId, reason: reason, at: now))
            } }
        }
    }

    func cancelReservation(id: Int) async -> Bool {
        await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            jobs.withLock { $0.append { evse, now in done.resume(returning: evse.cancelReservation(id: id, at: now)) } }
        }
    }

    /// UnlockConnector: asked on the loop, answered from the lock's feedback after later steps.
    func unlock(connectorId id: Int) async -> UnlockOutcome {
        await withCheckedContinuation { (done: CheckedContinuation<UnlockOutcome, Never>) in
            jobs.withLock { $0.append { [self] evse, now in
                guard let view = evse.connector(id), view.hasLock else { return done.resume(returning: .notSupported) }
                evse.unlockConnector(id, at: now)
                unlockWaiters.withLock { $0.append(UnlockWaiter(connectorId: id, deadline: now + Self.unlockPatience, done: done)) }
            } }
        }
    }

    /// A running session's stop, the contactor opening and the lock's travel (the board's lock
    /// timeout) all fit well inside this.
    static let unlockPatience = EVSEDuration.seconds(Int64(5))

    struct UnlockWaiter: Sendable {
        let connectorId: Int
        let deadline: MonotonicInstant
        let done: CheckedContinuation<UnlockOutcome, Never>
    }

    private let unlockWaiters = Mutex<[UnlockWaiter]>([])

    /// After a step: answers the unlocks whose lock has moved (or that waited long enough).
    func settleUnlocks(_ evse: Station, at now: MonotonicInstant) {
        let finished = unlockWaiters.withLock { waiters -> [(UnlockWaiter, UnlockOutcome)] in
            var finished: [(UnlockWaiter, UnlockOutcome)] = []
            waiters.removeAll { w in
                let view = evse.connector(w.connectorId)
                let outcome: UnlockOutcome?
                switch view?.lock {
                case .unlocked where view?.session == nil: outcome = .unlocked
                case .fault: outcome = .unlockFailed
                default: outcome = now >= w.deadline ? .unlockFailed : nil
                }
                guard let outcome else { return false }
                finished.append((w, outcome))
                return true
            }
            return finished
        }
        for (waiter, outcome) in finished { waiter.done.resume(returning: outcome) }
    }

    func drainJobs() -> [Job] {
        jobs.withLock { jobs in
            let taken = jobs
            jobs.removeAll()
            return taken
        }
    }
    func drain() -> [OCPP16StationCommand] {
        inbox.withLock { commands in
            let taken = commands
            commands.removeAll()
            return taken
        }
    }
}

/// The core's authorization backend: a token the policy sends to the backend becomes an
/// Authorize; the answer comes back through the bridge.
final class OCPPAuthorizationBackend: AuthorizationBackend {
    let chargePoint: OCPP16ChargePoint
    init(chargePoint: OCPP16ChargePoint) { self.chargePoint = chargePoint }
    var isOnline: Bool { chargePoint.isOnline }
    func requestAuthorization(for idToken: IdToken) -> BackendAuthorizationReply {
        chargePoint.stationEvent(.authorizationNeeded(idToken))
        return .pending
    }
}

/// `evsed --csms URL --identity ID [--ocpp-version 1.6]`: an OCPP 1.6J charge point on the
/// station. Everything runs on the loop's thread except the client's own tasks.
final class OCPPWiring {
    /// The value of `shutdownSignal` that means "restart" (a CSMS Reset).
    static let restartSignal: Int32 = -1

    let client: OCPP16Client
    let port: StationPortBridge
    let storage: StationStorage
    let log: Logger
    /// Tokens waiting for an Authorize answer → the connector that asked.
    private var pendingAuthorizations: [String: Int] = [:]
    private(set) var restartHard = false

    init(backend: BackendSettings, station: StationConfig, boardModel: String, connectorCount: Int,
         storage: StationStorage, files: OCPP16FileServices? = nil) throws {
        guard backend.ocppVersion == "1.6" else { throw DaemonFailure("OCPP \(backend.ocppVersion): only 1.6 is supported so far") }
        let security = try Self.securitySetup(backend, dataDirectory: station.dataDirectory)
        let frameLog = backend.frameLog.map {
            OCPPFrameLog(path: station.dataDirectory + "/" + Self.frameLogFileName, maxFileBytes: $0.maxFileBytes, fileCount: $0.fileCount)
        }
        let port = StationPortBridge()
        let wall = SystemWallClock()
        client = try OCPP16Client(
            backendURL: backend.url, identity: backend.identity ?? station.identity,
            chargePointIdentity: .init(vendor: "SwiftEVSE", model: boardModel, serialNumber: station.serialNumber,
                                       firmwareVersion: FirmwareVersion.reported(station.firmware)),
            station: port, storage: storage, numberOfConnectors: connectorCount,
            unixMs: { wall.unixMilliseconds() }, security: security, frameLog: frameLog, files: files,
            logger: Logger(label: "ocpp16"))
        self.port = port
        self.storage = storage
        self.log = Logger(label: "ocpp16.wiring")
    }

    /// Under the data directory, with its rotated predecessors (`.1`, `.2`, …).
    static let frameLogFileName = "ocpp-frames.log"

    /// The security settings: the AuthorizationKey is read from a file (never on the command line).
    static func securitySetup(_ backend: BackendSettings, dataDirectory: String) throws -> OCPP16SecuritySetup {
        var key: String?
        if let file = backend.authorizationKeyFile {
            guard let text = SmallFile.text(file, limit: 4_096) else {
                throw DaemonFailure("cannot read \(file) (or it is larger than 4 KiB: not an AuthorizationKey file)")
            }
            key = String(text.filter { !$0.isWhitespace })
        }
        return try OCPP16SecuritySetup(profileNumber: backend.securityProfile, authorizationKeyHex: key,
                                       centralSystemRootFiles: backend.csmsRootCertificates,
                                       clientCertificateFile: backend.clientCertificate, clientKeyFile: backend.clientKey,
                                       dataDirectory: dataDirectory)
    }

    /// Keys the CSMS changed (answered RebootRequired) that the station file also sets: the
    /// CSMS's value wins from the next start on.
    static func applyStoredConfiguration(to config: inout StationConfig, log: Logger) {
        let storage: StationStorage
        do { storage = try StationStorage(dataDirectory: config.dataDirectory) } catch {
            log.error("OCPP configuration keys not readable: \(error)")
            return
        }
        defer { storage.database.close() }
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: 0)
        func stored(_ name: String) -> Bool { ((try? storage.config.value(for: ConfigurationService.storePrefix + name)) ?? nil) != nil }
        if stored("StopTransactionOnEVSideDisconnect") { config.sessions.stopOnEVDisconnect = keys.bool("StopTransactionOnEVSideDisconnect") }
        if stored("UnlockConnectorOnEVSideDisconnect") { config.sessions.unlockOnEVDisconnect = keys.bool("UnlockConnectorOnEVSideDisconnect") }
        if stored("ConnectionTimeOut"), let s = keys.int("ConnectionTimeOut") { config.sessions.connectionTimeout = .seconds(Int64(s)) }
    }

    /// Before `Station.start`: the observer sees the recovery's commands too, and every session
    /// start and end queues its message in the journal transaction that records it.
    func attach(to evse: Station) {
        let chargePoint = client.chargePoint
        let transactions = chargePoint.transactions
        // A journal of an earlier version may hold an open session whose StartTransaction was
        // never queued: queue it now, before the recovery queues anything after it.
        transactions.reconcileWithJournal()
        evse.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
        let wall = evse.wallClock
        evse.commandObserver = { [unowned self] id, command in
            switch command {
            case let .statusChanged(status, error):
                chargePoint.stationEvent(.statusChanged(connectorId: id, status, error, atUnixMs: wall.unixMilliseconds()))
            case let .sessionStarted(session):
                chargePoint.stationEvent(.sessionStarted(session))
            case let .sessionEnded(session):
                chargePoint.stationEvent(.sessionEnded(session))
            case let .authorize(token):
                self.pendingAuthorizations[token.value] = id
            default:
                break
            }
        }
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: 0)
        evse.useAuthorizationBackend(OCPPAuthorizationBackend(chargePoint: chargePoint), online: true)
        var policy = evse.authorizationPolicy
        policy.localPreAuthorize = keys.bool("LocalPreAuthorize")
        policy.localAuthorizeOffline = keys.bool("LocalAuthorizeOffline")
        policy.allowOfflineTxForUnknownId = keys.bool("AllowOfflineTxForUnknownId")
        policy.cacheEnabled = keys.bool("AuthorizationCacheEnabled")
        policy.localListEnabled = keys.bool("LocalAuthListEnabled")
        evse.authorizationPolicy = policy
        publish(evse)
    }

    func start() {
        let client = client
        Task { await client.start() }
    }

    /// After every step: carry out what the CSMS asked, then publish what the station looks like.
    func afterStep(_ evse: Station, at now: MonotonicInstant) {
        for command in port.drain() {
            switch command {
            case let .remoteStart(id, token): evse.remoteStart(connector: id, idToken: token, at: now)
            case let .stopSession(id, reason): evse.stopSession(connector: id, reason: reason, at: now)
            case let .setAvailability(id, operative): evse.setAvailability(connector: id, operative: operative, at: now)
            case let .authorizationResult(token, info):
                guard let id = pendingAuthorizations.removeValue(forKey: token.value) else { continue }
                evse.authorizationAnswered(token, info, connector: id, at: now)
            case let .authorizationLearned(token, info): evse.rememberAuthorization(token, info)
            case .clearAuthorizationCache: evse.clearAuthorizationCache()
            case let .chargingProfiles(profiles): evse.installChargingProfiles(profiles)
            case let .restart(hard):
                log.notice("\(hard ? "hard" : "soft") reset: restarting")
                restartHard = hard
                shutdownSignal.store(Self.restartSignal, ordering: .relaxed)
            }
        }
        for job in port.drainJobs() { job(evse, now) }
        port.settleUnlocks(evse, at: now)
        publish(evse)
    }

    private func publish(_ evse: Station) {
        port.publish(evse.connectorViews.map { v in
            let sample = evse.lastMeterSample(connector: v.id)
            return OCPP16ConnectorSnapshot(id: v.id, status: v.status, error: v.error,
                                           vehicleConnected: v.pilot?.vehicleConnected ?? false, session: v.session,
                                           energyWh: sample?.energyWh, powerW: sample?.powerW,
                                           currentsA: sample?.currentsA ?? [])
        })
    }

    /// Closes the connection (waits up to 2 s).
    func stop() {
        let done = StopFlag()
        let client = client
        Task {
            await client.stop()
            done.value.withLock { $0 = true }
        }
        for _ in 0..<200 where !done.value.withLock({ $0 }) {
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            _ = nanosleep(&ts, nil)
        }
    }

    /// A Reset: the program now on disk (a firmware update may have replaced it) with the same
    /// arguments replaces this process.
    static func restartProcess(log: Logger) -> Never {
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        argv.append(nil)
        let program = programPath()
        execv(program, &argv)
        log.critical("restart of \(program) failed: \(String(cString: strerror(errno))); exiting for the service manager to restart")
        exit(75)
    }

    /// Where this program's file is: /proc/self/exe names it, with " (deleted)" appended once
    /// the file was replaced; the replacement at the same path is what must run next.
    static func programPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "/proc/self/exe" }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let deleted = " (deleted)"
        return path.hasSuffix(deleted) ? String(path.dropLast(deleted.count)) : path
    }

    /// A hard reset with `backend.hard_reset_command`: the controller reboots. Returns only when
    /// the command could not be run or failed (the caller then restarts the daemon instead).
    static func reboot(_ command: String, log: Logger) {
        log.notice("hard reset: running \(command)")
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else {
            log.error("hard reset: cannot run \(command): \(String(cString: strerror(errno)))")
            return
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            log.error("hard reset: \(command) failed (status \(status)); restarting the daemon instead")
            return
        }
        exit(0)  // the controller is rebooting
    }
}

final class StopFlag: Sendable {
    let value = Mutex(false)
}
