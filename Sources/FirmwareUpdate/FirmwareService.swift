#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import HAL
import Logging
import OCPPJSON
import OCPPSecurity
import StationPort
import Storage

/// A firmware update as both OCPP versions run it (1.6 UpdateFirmware and SignedUpdateFirmware,
/// 2.0.1 UpdateFirmware): wait for the retrieve date, download with retries, check the signature (signed updates),
/// wait for the install date and for every session to end with the connectors made
/// Unavailable, hand the image to the installer, restart, and report Installed after the
/// restart. One update at a time; its state is on disk (ConfigStore), so a restart or a power
/// cut at any point ends in a definite report: an interrupted download is retried (or
/// DownloadFailed when the attempts are used up), an interrupted installation is
/// InstallationFailed. The station is only asked through its port: it holds the charging logic.
/// The adapter tells the CSMS (`FirmwareStatusReporting`) in its version's messages.
public actor FirmwareService {
    public typealias Status = FirmwareUpdateStatus
    public typealias Sleeper = @Sendable (EVSEDuration) async -> Void

    public enum Kind: String, Sendable {
        /// 1.6 FirmwareManagement's UpdateFirmware: no signature, the plain statuses only.
        case unsigned
        /// 1.6 SignedUpdateFirmware, 2.0.1 UpdateFirmware: signature checked, every status, the requestId.
        case signed
    }

    let settings: FirmwareUpdateSettings
    let store: ConfigStore?
    let storeKey: String
    let station: any StationPort
    let reporter: any FirmwareStatusReporting
    let unixMs: @Sendable () -> UInt64
    let sleep: Sleeper
    let logger: Logger
    var verifierSource: @Sendable () -> FirmwareSignatureVerifier? = { nil }

    var job: Job?
    /// Bumped by every new update: a task of an older one stops touching the state.
    var generation = 0
    var task: Task<Void, Never>?

    /// `storeKey`: where the update's state is kept in `store` (the adapter's own key: 1.6 and
    /// 2.0.1 keep theirs apart, so a version switch never reports one version's update in the other's).
    public init(settings: FirmwareUpdateSettings, store: ConfigStore?, storeKey: String, station: any StationPort,
                reporter: any FirmwareStatusReporting, unixMs: @escaping @Sendable () -> UInt64,
                sleep: @escaping Sleeper, logger: Logger) {
        self.settings = settings
        self.store = store
        self.storeKey = storeKey
        self.station = station
        self.reporter = reporter
        self.unixMs = unixMs
        self.sleep = sleep
        self.logger = logger
    }

    // MARK: Requests

    /// After a (re)start: picks up the update where it was. `verifier` gives the installed
    /// manufacturer roots, for a signed image downloaded before the restart.
    public func resume(verifier: @escaping @Sendable () -> FirmwareSignatureVerifier?) {
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
    public func update(location: String, retrieveAtMs: UInt64, retries: Int?, retryInterval: Int?) -> Bool {
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

    /// How a signed update request was taken.
    public enum SignedUpdateOutcome: String, Sendable {
        case accepted = "Accepted"
        /// An earlier update was given up for it.
        case acceptedCanceled = "AcceptedCanceled"
        /// An installation is running.
        case rejected = "Rejected"
    }

    /// A signed update whose signing certificate was checked (1.6 SignedUpdateFirmware, 2.0.1 UpdateFirmware).
    public func signedUpdate(requestId: Int, location: String, signingCertificate: String?, signature: String?,
                             retries: Int?, retryInterval: Int?, retrieveAtMs: UInt64, installAtMs: UInt64?) -> SignedUpdateOutcome {
        guard !isInstalling else { return .rejected }
        let canceled = cancelCurrent()
        begin(Job(kind: .signed, requestId: requestId, location: location, retrieveAtMs: retrieveAtMs,
                  installAtMs: installAtMs, retries: max(0, retries ?? settings.defaultRetries),
                  retryIntervalSeconds: max(0, retryInterval ?? Int(settings.defaultRetryInterval.microseconds / 1_000_000)),
                  signingCertificate: signingCertificate, signature: signature, phase: .waitingToDownload,
                  file: imagePath()))
        return canceled ? .acceptedCanceled : .accepted
    }

    /// What a TriggerMessage / ExtendedTriggerMessage reports: the update's latest status while
    /// one runs, Idle otherwise (for a signed update that ended other than Installed, its last
    /// status, as the whitepaper has it).
    public func triggeredStatus() -> (status: Status, requestId: Int?, kind: Kind?) {
        guard let j = job else { return (.idle, nil, nil) }
        if j.phase == .finished {
            if j.kind == .signed, j.lastStatus != .installed, j.lastStatus != .idle { return (j.lastStatus, j.requestId, .signed) }
            return (.idle, nil, j.kind)
        }
        return (j.lastStatus, j.lastStatus == .idle ? nil : j.requestId, j.kind)
    }

    /// For the diagnostics archive: one line on the update, if there is or was one.
    public func summary() -> String {
        guard let j = job else { return "no firmware update" }
        return "\(j.kind == .signed ? "SignedUpdateFirmware \(j.requestId ?? 0)" : "UpdateFirmware") of "
            + "\(FileTransferURL.redacted(j.location)): \(j.phase.rawValue), last status \(j.lastStatus.rawValue), "
            + "\(j.failedAttempts) failed download attempt(s)"
    }

    public var isInstalling: Bool {
        guard let j = job else { return false }
        return j.phase == .installing || j.phase == .restarting
    }

    /// The charge point stops: the work in progress ends where it is, as if the process ended
    /// (the state on disk says what to do at the next start).
    public func shutDown() {
        task?.cancel()
        task = nil
        generation += 1
    }

    // MARK: The update

    func begin(_ new: Job) {
        generation += 1
        job = new
        save()
        logger.notice("firmware: \(new.kind == .signed ? "SignedUpdateFirmware \(new.requestId ?? 0)" : "UpdateFirmware") from \(FileTransferURL.redacted(new.location))")
        start()
    }

    func start() {
        let g = generation
        task = Task { await self.run(g) }
    }

    /// Gives up the running update (not an installation); true when there was one.
    @discardableResult
    func cancelCurrent() -> Bool {
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

    func current(_ g: Int) -> Job? {
        guard g == generation, !Task.isCancelled else { return nil }
        return job
    }

    func run(_ g: Int) async {
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
                reporter.recordSecurityEvent("FirmwareUpdated", techInfo: FileTransferURL.redacted(j.location))
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

    /// The update is over with `status`: connectors back, the end on disk before the CSMS
    /// hears of it (the daemon may be stopped the moment it does), then the image removed.
    func finish(_ g: Int, reporting status: Status) {
        guard g == generation, var j = job else { return }
        restoreConnectors(&j)
        j.phase = .finished
        job = j
        save()
        report(status, g)
        unlink(j.file)
        unlink(j.file + ".part")
    }

    func restoreConnectors(_ j: inout Job) {
        guard !j.blockedConnectors.isEmpty else { return }
        for id in j.blockedConnectors { station.submit(.changeAvailability(connectorId: id, operative: true)) }
        logger.notice("firmware: connectors \(j.blockedConnectors) available again")
        j.blockedConnectors = []
    }

    func setJob(_ j: Job, _ g: Int) {
        guard g == generation else { return }
        job = j
        save()
    }

    /// Reports `status` the way the update's kind reports (the reporter skips what the kind
    /// has no name for: an unsigned update has no DownloadScheduled, SignatureVerified, …).
    func report(_ status: Status, _ g: Int, onDelivered: (@Sendable () async -> Void)? = nil) {
        guard g == generation, var j = job else { return }
        logger.notice("firmware: \(status.rawValue)")
        guard reporter.report(status, of: j.kind, requestId: j.requestId, onDelivered: onDelivered) else { return }
        j.lastStatus = status
        job = j
        save()
    }

    /// Sleeps until the wall clock reaches `unixMs`, a minute at a time (a clock set after
    /// boot moves the date).
    func waitUntil(_ target: UInt64, _ g: Int) async {
        while current(g) != nil {
            let now = unixMs()
            guard target > now else { return }
            await sleep(.milliseconds(Int64(min(target - now, 60_000))))
        }
    }

    func imagePath() -> String {
        settings.firmwareDirectory + "/firmware-\(unixMs()).bin"
    }
}
