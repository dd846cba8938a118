#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BoardDescription
import CHeapTrim
import HAL
import Logging
import OCPP16
import OCPPTransport
import Station
import Synchronization

/// Set by SIGTERM/SIGINT; the loop checks it every step.
let shutdownSignal = Atomic<Int32>(0)
/// Set by SIGUSR1 (`evsectl energy mode` after it stored a mode): re-read the stored settings.
let reloadSignal = Atomic<Bool>(false)
/// The loop's wake-up pipe, for the signal handlers (which can reach only globals); -1 before.
let wakeWriteFD = Atomic<Int32>(-1)

/// From a signal handler: write(2) is async-signal-safe, so the sleeping loop wakes at once.
func wakeLoopFromSignalHandler() {
    var byte: UInt8 = 1
    let fd = wakeWriteFD.load(ordering: .relaxed)
    if fd >= 0 { _ = Glibc.write(fd, &byte, 1) }
}

@main
struct Evsed {
    // The command line (EvsedOptions.swift parses it; `evsed --help` lists it). Defaults here.
    var board = ""
    var config: String?
    var dataDir: String?
    var logLevel: String?
    var loopIntervalMs = 1
    var idleIntervalMs = 50
    var csms: String?
    var identity: String?
    var ocppVersion: String?
    var securityProfile: Int?
    var authorizationKeyFile: String?
    var csmsRootCertificates: [String] = []
    var clientCertificate: String?
    var clientKey: String?
    var frameLog = false

    static func main() {
        let evsed: Evsed
        do {
            evsed = try Evsed(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch .helpRequested {
            print(Evsed.usage)
            exit(0)
        } catch {
            StandardError.write("evsed: \(error)\nSee 'evsed --help'.\n")
            exit(64)  // EX_USAGE
        }
        do {
            try evsed.run()
        } catch let failure as ExitStatus {
            exit(failure.code)
        } catch {
            StandardError.write("evsed: \(error)\n")
            exit(1)
        }
    }

    func validate() throws(UsageError) {
        guard (1...100).contains(loopIntervalMs) else { throw .invalid("--loop-interval-ms must be 1…100") }
        guard (loopIntervalMs...100).contains(idleIntervalMs) else {
            throw .invalid("--idle-interval-ms must be between --loop-interval-ms and 100")
        }
        if let p = securityProfile, !(0...3).contains(p) { throw .invalid("--security-profile must be 0…3") }
        if let v = ocppVersion, !BackendSettings.ocppVersions.contains(v) {
            throw .invalid("--ocpp-version must be one of \(BackendSettings.ocppVersions.joined(separator: ", "))")
        }
        guard (clientCertificate == nil) == (clientKey == nil) else {
            throw .invalid("--client-certificate and --client-key go together")
        }
        if let l = logLevel, Logger.Level(rawValue: l) == nil {
            throw .invalid("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() throws {
        // One malloc arena for every thread: each thread of its own (the event loop, the meter
        // poller, the simulator or GPIO readers) otherwise keeps an arena with its own free pages,
        // 60–80 KB more resident in all. glibc's per-thread cache keeps the arena's lock off the
        // common path. Before any thread starts.
        _ = swiftevse_use_one_malloc_arena()
        // Before anything starts a task: the OCPP side on one named event loop thread.
        let oneOCPPThread = OCPPExecutor.useOneThread()
        var station = StationConfig()
        do {
            if let config { station = try StationConfig.load(path: config) }
        } catch {
            StandardError.write("<3>evsed: \(error)\n")
            throw ExitStatus.configuration  // EX_CONFIG: restarting does not fix a file
        }
        if let dataDir { station.dataDirectory = dataDir }
        let level = Logger.Level(rawValue: logLevel ?? station.logLevel) ?? .info
        let recentLog = RecentLogLines()
        LoggingSystem.bootstrap { JournalLogHandler(label: $0, level: level, recent: recentLog) }
        let log = Logger(label: "evsed")
        if !oneOCPPThread { log.info("Swift concurrency keeps its own worker threads (the event loop could not take it over)") }
        let notifier = SystemdNotifier()

        signal(SIGTERM) { _ in shutdownSignal.store(SIGTERM, ordering: .relaxed); wakeLoopFromSignalHandler() }
        signal(SIGINT) { _ in shutdownSignal.store(SIGINT, ordering: .relaxed); wakeLoopFromSignalHandler() }
        signal(SIGUSR1) { _ in reloadSignal.store(true, ordering: .relaxed); wakeLoopFromSignalHandler() }
        signal(SIGPIPE, SIG_IGN)

        let boardDescription: BoardDescription
        do { boardDescription = try BoardLoader.load(path: board) } catch {
            log.critical("\(error)")
            throw ExitStatus.configuration  // EX_CONFIG: systemd's Restart=on-failure would only loop
        }
        let backend = backendSettings(station)
        log.notice("evsed starting: \(station.identity) serial \(station.serialNumber), board \(boardDescription.model) (\(board)), data \(station.dataDirectory), authorization \(station.authorization.mode.rawValue)")

        do {
            try DataDirectory.ensure(station.dataDirectory)
        } catch {
            log.critical("data directory \(station.dataDirectory): \(error)")
            throw ExitStatus.failure
        }

        let clock = SystemMonotonicClock()
        let evse: Station
        do {
            evse = try Station.open(board: boardDescription, config: station, clock: clock,
                                    logger: Logger(label: "station"), sessionIdSeed: Entropy.seed())
        } catch {
            log.critical("bring-up failed: \(error)")
            throw ExitStatus.failure
        }
        var ocpp: OCPPWiring?
        if backend == nil {
            do {
                try OCPP16SecuritySetup.moveStoredAuthorizationKey(from: evse.storage.config, dataDirectory: station.dataDirectory)
            } catch {
                log.critical("AuthorizationKey: cannot move it out of the database: \(error)")
                throw ExitStatus.failure
            }
        }
        if let backend {
            do {
                if let problem = FirmwareWiring.checkInstaller(station) { throw DaemonFailure(problem) }
                let files = FirmwareWiring.fileServices(station: station, boardPath: board, recentLog: recentLog,
                                                        frameLogFiles: backend.frameLog?.fileCount ?? 0)
                ocpp = try OCPPWiring(backend: backend, station: station, boardModel: boardDescription.model,
                                      connectors: boardDescription.connectors, evse: evse, files: files)
            } catch {
                log.critical("OCPP: \(error)")
                throw ExitStatus.configuration
            }
        }
        do {
            let report = try evse.start(at: clock.now())
            if !report.resumed.isEmpty || !report.ended.isEmpty {
                log.notice("recovery: resumed \(report.resumed), ended \(report.ended)")
            }
        } catch {
            log.critical("start failed: \(error)")
            throw ExitStatus.failure
        }
        evse.startMeterPolling()
        ocpp?.start()
        // Opening the station (the database's quick check, migrations, the 2.0.1 device model's
        // comparison with its table) leaves prepared statements and freed pages that the running
        // station does not need again: given back, they are 0.1–0.2 MB less resident
        // (docs/ARCHITECTURE.md, "The firmware's memory").
        evse.storage.database.releaseMemory()
        _ = swiftevse_release_free_heap()
        notifier.ready(status: backend.map { "connecting to \($0.url)" } ?? "charging standalone")
        log.notice("ready: \(boardDescription.connectors.count) connector(s)")

        // Inputs that cannot signal their changes (a polled board) are sampled at the board's
        // pilot.sample_rate_hz, else at these intervals; settling inputs every loop interval.
        evse.inputSampling.settleInterval = .milliseconds(Int64(loopIntervalMs))
        evse.inputSampling.idleInterval = .milliseconds(Int64(idleIntervalMs))
        log.info("loop: \(evse.inputSampling.inputsSignalChanges ? "inputs signal their changes; no periodic sampling" : "inputs sampled every \(evse.inputSampling.boardInterval.map { "\($0)" } ?? "\(loopIntervalMs) ms busy / \(idleIntervalMs) ms idle")")")
        let pidFile = PidFile(dataDirectory: station.dataDirectory, log: log)
        wakeWriteFD.store(evse.wake.writeFD, ordering: .relaxed)
        let loop = StationLoop(station: evse, port: ocpp?.port, clock: clock)
        let watchdogEvery = SystemdNotifier.watchdogInterval().map { EVSEDuration(microseconds: $0) }
        var lastWatchdog = clock.now()
        var inputsChanged = false
        while shutdownSignal.load(ordering: .relaxed) == 0 {
            let began = clock.now()
            if reloadSignal.exchange(false, ordering: .relaxed) { evse.reloadStoredChargingMode(at: began) }
            var deadlines = loop.turn(at: began, inputsChanged: inputsChanged)
            let ended = clock.now()
            // The watchdog is kept only by a loop that still steps in time: a step that
            // hangs (a driver stuck in I/O) stops the pings and systemd restarts us.
            if let every = watchdogEvery {
                if ended - lastWatchdog >= every, ended - began < .seconds(Int64(1)) {
                    notifier.watchdog()
                    lastWatchdog = ended
                }
                deadlines.add(.watchdog, at: lastWatchdog + every)
            }
            inputsChanged = loop.sleep(until: deadlines)
        }
        wakeWriteFD.store(-1, ordering: .relaxed)
        pidFile.remove()
        let sig = shutdownSignal.load(ordering: .relaxed)
        notifier.stopping()
        log.notice("signal \(sig): suspending energy and shutting down")
        evse.shutdown(at: clock.now())
        ocpp?.stop()
        evse.close()
        log.notice("stopped")
        if sig == OCPPWiring.restartSignal {
            if let ocpp, ocpp.restartHard, let command = backend?.hardResetCommand { OCPPWiring.reboot(command, log: log) }
            OCPPWiring.restartProcess(log: log)
        }
    }

    /// The station file's backend section with the flags laid over it (nil: standalone).
    func backendSettings(_ station: StationConfig) -> BackendSettings? {
        guard var b = station.backend ?? csms.map({ BackendSettings(line: 0, url: $0) }) else { return nil }
        if let csms { b.url = csms }
        b.identity = identity ?? b.identity ?? station.identity
        if let ocppVersion { b.ocppVersion = ocppVersion }
        if let securityProfile { b.securityProfile = securityProfile }
        if let authorizationKeyFile { b.authorizationKeyFile = authorizationKeyFile }
        if !csmsRootCertificates.isEmpty { b.csmsRootCertificates = csmsRootCertificates }
        if let clientCertificate, let clientKey {
            b.clientCertificate = clientCertificate
            b.clientKey = clientKey
        }
        if frameLog, b.frameLog == nil { b.frameLog = FrameLogSettings() }
        return b
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// `evsed.pid` in the data directory: how `evsectl energy mode` finds the daemon to tell it
/// (SIGUSR1) that it stored a new charging mode. Removed at a clean stop; a stale one after a
/// crash names a pid evsectl checks before signalling.
struct PidFile {
    static let name = "evsed.pid"
    let path: String

    init(dataDirectory: String, log: Logger) {
        path = dataDirectory + "/" + Self.name
        let text = "\(getpid())\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            log.warning("\(path): \(String(cString: strerror(errno))); evsectl energy mode takes effect at the next start")
            return
        }
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    func remove() { unlink(path) }
}

enum DataDirectory {
    static func ensure(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw DaemonFailure("\(path) exists and is not a directory") }
            return
        }
        guard mkdir(path, 0o750) == 0 || errno == EEXIST else {
            throw DaemonFailure("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }
}

enum Entropy {
    /// 8 bytes of /dev/urandom mixed with the clock, so session ids never repeat across boots.
    static func seed() -> UInt64 {
        var value: UInt64 = 0
        if let f = fopen("/dev/urandom", "rb") {
            _ = withUnsafeMutableBytes(of: &value) { fread($0.baseAddress, 1, 8, f) }
            fclose(f)
        }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return value ^ UInt64(truncatingIfNeeded: ts.tv_nsec) ^ (UInt64(truncatingIfNeeded: ts.tv_sec) << 20)
    }
}

enum StandardError {
    static func write(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
