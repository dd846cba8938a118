#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import HAL
import Logging
import OCPP16Messages
import OCPPJSON
import OCPPSecurity
import StationPort
import Storage

/// FirmwareManagement's UpdateFirmware and the security whitepaper's SignedUpdateFirmware:
/// wait for the retrieve date, download with retries, check the signature (signed updates),
/// wait for the install date and for every session to end with the connectors made
/// Unavailable, hand the image to the installer, restart, and report Installed after the
/// restart. One update at a time; its state is on disk (ConfigStore), so a restart or a power
/// cut at any point ends in a definite report: an interrupted download is retried (or
/// DownloadFailed when the attempts are used up), an interrupted installation is
/// InstallationFailed. The station is only asked through its port: it holds the charging logic.
public actor FirmwareService {
    public typealias Status = SignedFirmwareStatusNotificationRequest.FirmwareStatusEnumType

    public enum Kind: String, Sendable {
        /// UpdateFirmware (1.6 FirmwareManagement): FirmwareStatusNotification.
        case unsigned
        /// SignedUpdateFirmware (whitepaper): SignedFirmwareStatusNotification with the requestId.
        case signed
    }

    enum Phase: String, Sendable {
        case waitingToDownload, downloading, downloaded, waitingToInstall, installing
        /// Installed; the daemon is restarting into the new firmware.
        case restarting
        /// Restarted: Installed is owed to the CSMS.
        case reportingInstalled
        case finished
    }

    /// The update as kept on disk.
    struct Job: Sendable, Equatable {
        var kind: Kind
        var requestId: Int?
        var location: String
        var retrieveAtMs: UInt64
        var installAtMs: UInt64?
        /// Download attempts after the first.
        var retries: Int
        var retryIntervalSeconds: Int
        var signingCertificate: String?
        var signature: String?
        var phase: Phase
        var failedAttempts = 0
        /// Connectors this update made Unavailable (and gives back).
        var blockedConnectors: [Int] = []
        /// The status last reported: what a trigger repeats while the update runs.
        var lastStatus: Status = .idle
        /// Where the image is downloaded to.
        var file: String
    }

    static let storeKey = ConfigurationService.storePrefix + "firmware.update"

    private let settings: OCPP16FileServices
    private let store: ConfigStore?
    private let station: any StationPort
    private let outbox: FileStatusOutbox
    private let unixMs: @Sendable () -> UInt64
    private let sleep: OCPP16ChargePoint.Sleeper
    private let logger: Logger
    private var verifierSource: @Sendable () -> FirmwareSignatureVerifier? = { nil }

    private var job: Job?
    /// Bumped by every new update: a task of an older one stops touching the state.
    private var generation = 0
    private var task: Task<Void, Never>?

    init(settings: OCPP16FileServices, store: ConfigStore?, station: any StationPort, outbox: FileStatusOutbox,
         unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping OCPP16ChargePoint.Sleeper, logger: Logger) {
        self.settings = settings
        self.store = store
        self.station = station
        self.outbox = outbox
        self.unixMs = unixMs
        self.sleep = sleep
        self.logger = logger
    }

    // MARK: Requests

    /// After a (re)start: picks up the update where it was. `verifier` gives the installed
    /// manufacturer roots, for a signed image downloaded before the restart.
    func resume(verifier: @escaping @Sendable () -> FirmwareSignatureVerifier?) {
        verifierSource = verifier
        let stored = loadJob()
        removeStaleImages(keeping: stored.flatMap { $0.phase == .finished ? nil : $0.file })
        guard task == nil, var j = stored else { return }
        job = j
        switch j.phase {
        case .finished:
            return
        case .downloading:
            j.failedAttempts += 1
            logger.warning("firmware: the download of \(FileTransferURL.redacted(j.location)) was interrupted by a restart")
            job = j
            if j.failedAttempts > j.retries {
                finish(generation, reporting: .downloadFailed)
                return
            }
            save()
        case .installing:
            logger.error("firmware: the installation was interrupted by a restart")
            finish(generation, reporting: .installationFailed)
            return
        default:
            break
        }
        start()
    }

    /// UpdateFirmware. False when an installation is running (it cannot be stopped); a
    /// download or a wait of an earlier update is given up for this one.
    func update(location: String, retrieveAtMs: UInt64, retries: Int?, retryInterval: Int?) -> Bool {
        guard !isInstalling else {
            logger.warning("UpdateFirmware ignored: an installation is running")
            return false
        }
        cancelCurrent()
        begin(Job(kind: .unsigned, requestId: nil, location: location, retrieveAtMs: retrieveAtMs, installAtMs: nil,
                  retries: max(0, retries ?? settings.defaultRetries),
                  retryIntervalSeconds: max(0, retryInterval ?? Int(settings.defaultRetryInterval.microseconds / 1_000_000)),
                  signingCertificate: nil, signature: nil, phase: .waitingToDownload, file: imagePath()))
        return true
    }

    /// SignedUpdateFirmware whose signing certificate was checked: Accepted, AcceptedCanceled
    /// (an earlier update was given up for it) or Rejected (an installation is running).
    func signedUpdate(_ request: SignedUpdateFirmwareRequest, retrieveAtMs: UInt64, installAtMs: UInt64?)
        -> SignedUpdateFirmwareResponse.UpdateFirmwareStatusEnumType
    {
        guard !isInstalling else { return .rejected }
        let canceled = cancelCurrent()
        let f = request.firmware
        begin(Job(kind: .signed, requestId: request.requestId, location: f.location, retrieveAtMs: retrieveAtMs,
                  installAtMs: installAtMs, retries: max(0, request.retries ?? settings.defaultRetries),
                  retryIntervalSeconds: max(0, request.retryInterval ?? Int(settings.defaultRetryInterval.microseconds / 1_000_000)),
                  signingCertificate: f.signingCertificate, signature: f.signature, phase: .waitingToDownload,
                  file: imagePath()))
        return canceled ? .acceptedCanceled : .accepted
    }

    /// What a TriggerMessage / ExtendedTriggerMessage reports: the update's latest status while
    /// one runs, Idle otherwise (for a signed update that ended other than Installed, its last
    /// status, as the whitepaper has it).
    func triggeredStatus() -> (status: Status, requestId: Int?, kind: Kind?) {
        guard let j = job else { return (.idle, nil, nil) }
        if j.phase == .finished {
            if j.kind == .signed, j.lastStatus != .installed, j.lastStatus != .idle { return (j.lastStatus, j.requestId, .signed) }
            return (.idle, nil, j.kind)
        }
        return (j.lastStatus, j.lastStatus == .idle ? nil : j.requestId, j.kind)
    }

    /// For the diagnostics archive: one line on the update, if there is or was one.
    func summary() -> String {
        guard let j = job else { return "no firmware update" }
        return "\(j.kind == .signed ? "SignedUpdateFirmware \(j.requestId ?? 0)" : "UpdateFirmware") of "
            + "\(FileTransferURL.redacted(j.location)): \(j.phase.rawValue), last status \(j.lastStatus.rawValue), "
            + "\(j.failedAttempts) failed download attempt(s)"
    }

    var isInstalling: Bool {
        guard let j = job else { return false }
        return j.phase == .installing || j.phase == .restarting
    }

    /// The charge point stops: the work in progress ends where it is, as if the process ended
    /// (the state on disk says what to do at the next start).
    func shutDown() {
        task?.cancel()
        task = nil
        generation += 1
    }

    // MARK: The update

    private func begin(_ new: Job) {
        generation += 1
        job = new
        save()
        logger.notice("firmware: \(new.kind == .signed ? "SignedUpdateFirmware \(new.requestId ?? 0)" : "UpdateFirmware") from \(FileTransferURL.redacted(new.location))")
        start()
    }

    private func start() {
        let g = generation
        task = Task { await self.run(g) }
    }

    /// Gives up the running update (not an installation); true when there was one.
    @discardableResult
    private func cancelCurrent() -> Bool {
        guard var j = job, j.phase != .finished else { return false }
        task?.cancel()
        task = nil
        logger.notice("firmware: the update from \(FileTransferURL.redacted(j.location)) is given up for a new one")
        restoreConnectors(&j)
        unlink(j.file)
        j.phase = .finished
        job = j
        generation += 1
        save()
        return true
    }

    private func current(_ g: Int) -> Job? {
        guard g == generation, !Task.isCancelled else { return nil }
        return job
    }

    private func run(_ g: Int) async {
        while var j = current(g) {
            switch j.phase {
            case .waitingToDownload:
                if j.retrieveAtMs > unixMs() {
                    if j.kind == .signed, j.lastStatus != .downloadScheduled { report(.downloadScheduled, g) }
                    await waitUntil(j.retrieveAtMs, g)
                    continue
                }
                j.phase = .downloading
                setJob(j, g)
            case .downloading:
                await download(g)
            case .downloaded:
                verifySignature(g)
            case .waitingToInstall:
                await prepareInstallation(g)
            case .installing:
                await install(g)
                return
            case .restarting:
                // Running again, in the new firmware.
                outbox.recordSecurityEvent("FirmwareUpdated", techInfo: FileTransferURL.redacted(j.location))
                logger.notice("firmware: installed; running again after the restart")
                restoreConnectors(&j)
                j.phase = .reportingInstalled
                setJob(j, g)
            case .reportingInstalled:
                unlink(j.file)
                report(.installed, g) { [weak self] in await self?.installedReported(g) }
                return
            case .finished:
                return
            }
        }
    }

    private func download(_ g: Int) async {
        guard let j = current(g) else { return }
        report(.downloading, g)
        do {
            try makeDirectory(settings.firmwareDirectory)
            let bytes = try await settings.transfer.download(j.location, to: j.file, maxBytes: settings.maxFirmwareBytes)
            guard var done = current(g) else { unlink(j.file); return }
            logger.notice("firmware: downloaded \(bytes) bytes from \(FileTransferURL.redacted(j.location))")
            done.phase = .downloaded
            setJob(done, g)
            report(.downloaded, g)
        } catch {
            guard var failed = current(g) else { return }
            failed.failedAttempts += 1
            let attempts = failed.retries + 1
            if failed.failedAttempts >= attempts {
                logger.error("firmware: download failed: \(error); given up after \(failed.failedAttempts) attempt(s)")
                setJob(failed, g)
                finish(g, reporting: .downloadFailed)
                return
            }
            logger.warning("firmware: download failed: \(error); attempt \(failed.failedAttempts) of \(attempts), again in \(failed.retryIntervalSeconds) s")
            setJob(failed, g)
            await sleep(.seconds(Int64(failed.retryIntervalSeconds)))
        }
    }

    private func verifySignature(_ g: Int) {
        guard var j = current(g) else { return }
        guard fileExists(j.file) else {
            // Lost (a power cut before the rename was synced): fetch it again.
            logger.warning("firmware: the downloaded image \(j.file) is gone; downloading again")
            j.phase = .downloading
            setJob(j, g)
            return
        }
        if j.kind == .signed {
            guard let verifier = verifierSource() else {
                logger.error("firmware: no certificate store to check the signature with")
                finish(g, reporting: .installVerificationFailed)
                return
            }
            do {
                try verifier.verify(firmwareAt: j.file, signatureBase64: j.signature ?? "",
                                    signingCertificatePEM: j.signingCertificate ?? "", at: Int64(unixMs() / 1_000))
                logger.notice("firmware: signature verified")
                if j.lastStatus != .signatureVerified { report(.signatureVerified, g) }
            } catch let error as FirmwareVerificationError {
                logger.error("firmware: \(error); nothing is installed")
                if let event = error.securityEventType { outbox.recordSecurityEvent(event, techInfo: String(error.description.prefix(255))) }
                finish(g, reporting: Status(rawValue: error.signedFirmwareStatus) ?? .invalidSignature)
                return
            } catch {
                logger.error("firmware: signature check failed: \(error); nothing is installed")
                finish(g, reporting: .installVerificationFailed)
                return
            }
        }
        guard var next = current(g) else { return }
        next.phase = .waitingToInstall
        setJob(next, g)
    }

    /// The install date, an installer, no session: connectors Unavailable first (Scheduled
    /// where a session runs), so no new session starts while the running ones end.
    private func prepareInstallation(_ g: Int) async {
        guard var j = current(g) else { return }
        if let at = j.installAtMs, at > unixMs() {
            if j.lastStatus != .installScheduled { report(.installScheduled, g) }
            await waitUntil(at, g)
            return
        }
        guard settings.installer != nil else {
            logger.error("firmware: no installer configured (firmware.installer in the station file): the downloaded image \(j.file) is not installed")
            finish(g, reporting: .installationFailed)
            return
        }
        if j.blockedConnectors.isEmpty {
            j.blockedConnectors = await station.connectors().filter { $0.status != .unavailable }.map(\.id)
            setJob(j, g)
            for id in j.blockedConnectors { station.submit(.changeAvailability(connectorId: id, operative: false)) }
            logger.notice("firmware: connectors \(j.blockedConnectors) unavailable until the installation is over")
        }
        // At least one loop step for the station to apply it, then until every session ended.
        repeat {
            await sleep(.seconds(Int64(1)))
            guard current(g) != nil else { return }
        } while await station.connectors().contains { $0.session != nil }
        guard var ready = current(g) else { return }
        ready.phase = .installing
        setJob(ready, g)
        report(.installing, g)
    }

    private func install(_ g: Int) async {
        guard let j = current(g), let installer = settings.installer else { return }
        logger.notice("firmware: installing \(j.file)")
        let outcome = await installer.install(firmwareAt: j.file)
        // Not cancellable: the state is the installation's, whatever arrived meanwhile.
        guard g == generation, var done = job else { return }
        switch outcome {
        case .installed:
            done.phase = .restarting
            job = done
            save()
            logger.notice("firmware: installed; restarting into it")
            if done.kind == .signed { report(.installRebooting, g) }
            // Up to 10 s for the notifications to reach the CSMS; what is left is sent after the restart.
            for _ in 0..<50 where !outbox.isEmpty { await sleep(.milliseconds(Int64(200))) }
            station.submit(.restart(hard: false))
        case .failed(let reason):
            logger.error("firmware: installation failed: \(reason)")
            finish(g, reporting: .installationFailed)
        }
    }

    private func installedReported(_ g: Int) {
        guard g == generation, var j = job, j.phase == .reportingInstalled else { return }
        j.phase = .finished
        job = j
        save()
    }

    /// The update is over with `status`: connectors back, the end on disk before the CSMS
    /// hears of it (the daemon may be stopped the moment it does), then the image removed.
    private func finish(_ g: Int, reporting status: Status) {
        guard g == generation, var j = job else { return }
        restoreConnectors(&j)
        j.phase = .finished
        job = j
        save()
        report(status, g)
        unlink(j.file)
        unlink(j.file + ".part")
    }

    private func restoreConnectors(_ j: inout Job) {
        guard !j.blockedConnectors.isEmpty else { return }
        for id in j.blockedConnectors { station.submit(.changeAvailability(connectorId: id, operative: true)) }
        logger.notice("firmware: connectors \(j.blockedConnectors) available again")
        j.blockedConnectors = []
    }

    private func setJob(_ j: Job, _ g: Int) {
        guard g == generation else { return }
        job = j
        save()
    }

    /// Reports `status` the way the update's kind reports: an unsigned update has no
    /// DownloadScheduled, SignatureVerified, … and skips them.
    private func report(_ status: Status, _ g: Int, onDelivered: (@Sendable () async -> Void)? = nil) {
        guard g == generation, var j = job else { return }
        logger.notice("firmware: \(status.rawValue)")
        switch j.kind {
        case .signed:
            j.lastStatus = status
            outbox.post(.signedFirmware(SignedFirmwareStatusNotificationRequest(status: status, requestId: j.requestId)),
                        onDelivered: onDelivered)
        case .unsigned:
            guard let plain = FirmwareStatusNotificationRequest.FirmwareStatus(rawValue: status.rawValue) else { return }
            j.lastStatus = status
            outbox.post(.firmware(FirmwareStatusNotificationRequest(status: plain)), onDelivered: onDelivered)
        }
        job = j
        save()
    }

    /// Sleeps until the wall clock reaches `unixMs`, a minute at a time (a clock set after
    /// boot moves the date).
    private func waitUntil(_ target: UInt64, _ g: Int) async {
        while current(g) != nil {
            let now = unixMs()
            guard target > now else { return }
            await sleep(.milliseconds(Int64(min(target - now, 60_000))))
        }
    }

    private func imagePath() -> String {
        settings.firmwareDirectory + "/firmware-\(unixMs()).bin"
    }

    // MARK: Persistence

    private func save() {
        guard let store else { return }
        do {
            if let job { try store.set(JSONWriter.writeString(job.json), for: Self.storeKey) } else { try store.remove(Self.storeKey) }
        } catch {
            logger.error("firmware: cannot store the update's state: \(error)")
        }
    }

    private func loadJob() -> Job? {
        guard let text = (try? store?.value(for: Self.storeKey)) ?? nil else { return nil }
        guard let value = try? JSONParser.parse(text), let j = Job(json: value) else {
            logger.error("firmware: the stored update state is unreadable; forgotten")
            return nil
        }
        return j
    }

    /// Images of updates that are over (a stop between their end and the removal leaves one).
    private func removeStaleImages(keeping current: String?) {
        guard let directory = opendir(settings.firmwareDirectory) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            let path = settings.firmwareDirectory + "/" + name
            guard name.hasPrefix("firmware-"), path != current else { continue }
            unlink(path)
        }
    }

    private func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    private func makeDirectory(_ path: String) throws(FileTransferError) {
        try LocalFiles.ensureDirectory(path)
    }
}

extension FirmwareService.Job {
    var json: JSONValue {
        var o = JSONObject()
        o["kind"] = .string(kind.rawValue)
        if let requestId { o["requestId"] = .integer(Int64(requestId)) }
        o["location"] = .string(location)
        o["retrieveAtMs"] = .integer(Int64(clamping: retrieveAtMs))
        if let installAtMs { o["installAtMs"] = .integer(Int64(clamping: installAtMs)) }
        o["retries"] = .integer(Int64(retries))
        o["retryIntervalSeconds"] = .integer(Int64(retryIntervalSeconds))
        if let signingCertificate { o["signingCertificate"] = .string(signingCertificate) }
        if let signature { o["signature"] = .string(signature) }
        o["phase"] = .string(phase.rawValue)
        o["failedAttempts"] = .integer(Int64(failedAttempts))
        o["blockedConnectors"] = .array(blockedConnectors.map { .integer(Int64($0)) })
        o["lastStatus"] = .string(lastStatus.rawValue)
        o["file"] = .string(file)
        return .object(o)
    }

    init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue.flatMap(FirmwareService.Kind.init(rawValue:)),
              let location = json["location"]?.stringValue,
              let retrieve = json["retrieveAtMs"]?.int64Value, retrieve >= 0,
              let retries = json["retries"]?.int64Value, let interval = json["retryIntervalSeconds"]?.int64Value,
              let phase = json["phase"]?.stringValue.flatMap(FirmwareService.Phase.init(rawValue:)),
              let file = json["file"]?.stringValue
        else { return nil }
        self.kind = kind
        requestId = json["requestId"]?.int64Value.map { Int($0) }
        self.location = location
        retrieveAtMs = UInt64(retrieve)
        installAtMs = json["installAtMs"]?.int64Value.map { UInt64(max(0, $0)) }
        self.retries = Int(retries)
        retryIntervalSeconds = Int(interval)
        signingCertificate = json["signingCertificate"]?.stringValue
        signature = json["signature"]?.stringValue
        self.phase = phase
        failedAttempts = Int(json["failedAttempts"]?.int64Value ?? 0)
        blockedConnectors = (json["blockedConnectors"]?.arrayValue ?? []).compactMap { $0.int64Value.map { Int($0) } }
        lastStatus = json["lastStatus"]?.stringValue.flatMap(FirmwareService.Status.init(rawValue:)) ?? .idle
        self.file = file
    }
}

extension FirmwareService {
    /// FirmwareManagement's UpdateFirmware and the whitepaper's SignedUpdateFirmware (registered
    /// only where the service runs).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.registerAnswering(UpdateFirmwareRequest.self) { chargePoint, request in await chargePoint.answerUpdateFirmware(request) }
        registry.register(SignedUpdateFirmwareRequest.self) { chargePoint, request in await chargePoint.signedUpdateFirmware(request) }
    }
}
