#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import BoardDescription
import HAL
import Logging
import OCPP16
import Station
import Synchronization

/// Set by SIGTERM/SIGINT; the loop checks it every step.
let shutdownSignal = Atomic<Int32>(0)

@main
struct Evsed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evsed",
        abstract: "The SwiftEVSE charging daemon: runs one charger standalone from a board file and a station file.")

    @Option(name: .long, help: "The board description (e.g. /etc/swiftevse/board.yaml).")
    var board: String

    @Option(name: .long, help: "The station configuration (identity, authorization, demo cards).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Where the database lives (overrides data_dir of the station file).")
    var dataDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (overrides log_level).")
    var logLevel: String?

    @Option(name: .customLong("loop-interval-ms"), help: "Milliseconds between two steps of the event loop while an EV is plugged in or a session runs.")
    var loopIntervalMs: Int = 2

    @Option(name: .customLong("idle-interval-ms"), help: "Milliseconds between two steps while nothing is plugged in.")
    var idleIntervalMs: Int = 50

    @Option(name: .long, help: "The CSMS's WebSocket URL (ws://host:port/path; overrides backend.url); without one the charger runs standalone.")
    var csms: String?

    @Option(name: .long, help: "The charge point identity the CSMS knows this charger by (default: backend.identity, then the station file's identity).")
    var identity: String?

    @Option(name: .customLong("ocpp-version"), help: "The OCPP version to speak with the CSMS: 1.6 (overrides backend.ocpp_version).")
    var ocppVersion: String?

    @Option(name: .customLong("security-profile"), help: "OCPP security profile to start with, 0–3 (overrides backend.security_profile); the CSMS may raise it.")
    var securityProfile: Int?

    @Option(name: .customLong("authorization-key-file"), help: "A file holding the AuthorizationKey (hex, 16–20 bytes) for profiles 1 and 2.")
    var authorizationKeyFile: String?

    @Option(name: .customLong("csms-root-certificate"), help: "A PEM file of CSMS root certificate(s), installed as CentralSystemRootCertificate (repeatable; replaces backend.csms_root_certificates).")
    var csmsRootCertificates: [String] = []

    @Option(name: .customLong("client-certificate"), help: "PEM client certificate chain for security profile 3 (until the CSMS signs one).")
    var clientCertificate: String?

    @Option(name: .customLong("client-key"), help: "PEM private key of --client-certificate.")
    var clientKey: String?

    @Flag(name: .customLong("frame-log"), help: "Log every OCPP frame to <data-dir>/ocpp-frames.log (rotated, secrets redacted).")
    var frameLog = false

    func validate() throws {
        guard (1...100).contains(loopIntervalMs) else { throw ValidationError("--loop-interval-ms must be 1…100") }
        guard (loopIntervalMs...100).contains(idleIntervalMs) else {
            throw ValidationError("--idle-interval-ms must be between --loop-interval-ms and 100")
        }
        if let p = securityProfile, !(0...3).contains(p) { throw ValidationError("--security-profile must be 0…3") }
        if let v = ocppVersion, !BackendSettings.ocppVersions.contains(v) {
            throw ValidationError("--ocpp-version must be one of \(BackendSettings.ocppVersions.joined(separator: ", "))")
        }
        guard (clientCertificate == nil) == (clientKey == nil) else {
            throw ValidationError("--client-certificate and --client-key go together")
        }
        if let l = logLevel, Logger.Level(rawValue: l) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() throws {
        var station = StationConfig()
        do {
            if let config { station = try StationConfig.load(path: config) }
        } catch {
            StandardError.write("<3>evsed: \(error)\n")
            throw ExitCode(78)  // EX_CONFIG: restarting does not fix a file
        }
        if let dataDir { station.dataDirectory = dataDir }
        let level = Logger.Level(rawValue: logLevel ?? station.logLevel) ?? .info
        let recentLog = RecentLogLines()
        LoggingSystem.bootstrap { JournalLogHandler(label: $0, level: level, recent: recentLog) }
        let log = Logger(label: "evsed")
        let notifier = SystemdNotifier()

        signal(SIGTERM) { _ in shutdownSignal.store(SIGTERM, ordering: .relaxed) }
        signal(SIGINT) { _ in shutdownSignal.store(SIGINT, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)

        let boardDescription: BoardDescription
        do { boardDescription = try BoardLoader.load(path: board) } catch {
            log.critical("\(error)")
            throw ExitCode(78)  // EX_CONFIG: systemd's Restart=on-failure would only loop
        }
        let backend = backendSettings(station)
        log.notice("evsed starting: \(station.identity) serial \(station.serialNumber), board \(boardDescription.model) (\(board)), data \(station.dataDirectory), authorization \(station.authorization.mode.rawValue)")

        do {
            try DataDirectory.ensure(station.dataDirectory)
        } catch {
            log.critical("data directory \(station.dataDirectory): \(error)")
            throw ExitCode.failure
        }

        let clock = SystemMonotonicClock()
        let evse: Station
        do {
            evse = try Station.open(board: boardDescription, config: station, clock: clock,
                                    logger: Logger(label: "station"), sessionIdSeed: Entropy.seed())
        } catch {
            log.critical("bring-up failed: \(error)")
            throw ExitCode.failure
        }
        var ocpp: OCPPWiring?
        if backend == nil {
            do {
                try OCPP16SecuritySetup.moveStoredAuthorizationKey(from: evse.storage.config, dataDirectory: station.dataDirectory)
            } catch {
                log.critical("AuthorizationKey: cannot move it out of the database: \(error)")
                throw ExitCode.failure
            }
        }
        if let backend {
            do {
                if let problem = FirmwareWiring.checkInstaller(station) { throw DaemonFailure(problem) }
                let files = FirmwareWiring.fileServices(station: station, boardPath: board, recentLog: recentLog,
                                                        frameLogFiles: backend.frameLog?.fileCount ?? 0)
                ocpp = try OCPPWiring(backend: backend, station: station, boardModel: boardDescription.model,
                                      evse: evse, files: files)
            } catch {
                log.critical("OCPP: \(error)")
                throw ExitCode(78)
            }
        }
        do {
            let report = try evse.start(at: clock.now())
            if !report.resumed.isEmpty || !report.ended.isEmpty {
                log.notice("recovery: resumed \(report.resumed), ended \(report.ended)")
            }
        } catch {
            log.critical("start failed: \(error)")
            throw ExitCode.failure
        }
        let pollInterval = boardDescription.connectors.compactMap { $0.meter?.pollInterval }.min() ?? .milliseconds(1_000)
        evse.startMeterPolling(interval: pollInterval)
        ocpp?.start()
        notifier.ready(status: backend.map { "connecting to \($0.url)" } ?? "charging standalone")
        log.notice("ready: \(boardDescription.connectors.count) connector(s)")

        let busyInterval = EVSEDuration.milliseconds(Int64(loopIntervalMs))
        let idleInterval = EVSEDuration.milliseconds(Int64(idleIntervalMs))
        let watchdogEvery = SystemdNotifier.watchdogInterval().map { EVSEDuration(microseconds: $0) }
        var lastWatchdog = clock.now()
        var next = clock.now()
        while shutdownSignal.load(ordering: .relaxed) == 0 {
            let began = clock.now()
            evse.step(at: began)
            ocpp?.port.serve(at: began)
            let ended = clock.now()
            // The watchdog is kept only by a loop that still steps in time: a step that
            // hangs (a driver stuck in I/O) stops the pings and systemd restarts us.
            if let every = watchdogEvery, ended - lastWatchdog >= every, ended - began < .seconds(Int64(1)) {
                notifier.watchdog()
                lastWatchdog = ended
            }
            next = next + (evse.isIdle ? idleInterval : busyInterval)
            if next < ended { next = ended }
            Sleep.until(next, clock: clock)
        }
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

enum Sleep {
    static func until(_ instant: MonotonicInstant, clock: any EVSEClock) {
        let now = clock.now()
        guard instant > now else { return }
        let d = instant - now
        var ts = timespec(tv_sec: Int(d.microseconds / 1_000_000), tv_nsec: Int(d.microseconds % 1_000_000) * 1_000)
        // EINTR (a signal) just ends the sleep early; the loop checks the flag.
        _ = nanosleep(&ts, nil)
    }
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
