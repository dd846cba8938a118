#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import BoardDescription
import HAL
import Logging
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

    @Option(name: .long, help: "The CSMS's WebSocket URL (ws://host:port/path); without it the charger runs standalone.")
    var csms: String?

    @Option(name: .long, help: "The charge point identity the CSMS knows this charger by (default: the station file's identity).")
    var identity: String?

    @Option(name: .customLong("ocpp-version"), help: "The OCPP version to speak with the CSMS (1.6).")
    var ocppVersion: String = "1.6"

    @Option(name: .customLong("security-profile"), help: "OCPP security profile to start with (0–3); the CSMS may raise it.")
    var securityProfile: Int = 0

    @Option(name: .customLong("authorization-key-file"), help: "A file holding the AuthorizationKey (hex, 16–20 bytes) for profiles 1 and 2.")
    var authorizationKeyFile: String?

    @Option(name: .customLong("csms-root-certificate"), help: "A PEM file of CSMS root certificate(s), installed as CentralSystemRootCertificate (repeatable).")
    var csmsRootCertificates: [String] = []

    @Option(name: .customLong("client-certificate"), help: "PEM client certificate chain for security profile 3 (until the CSMS signs one).")
    var clientCertificate: String?

    @Option(name: .customLong("client-key"), help: "PEM private key of --client-certificate.")
    var clientKey: String?

    func validate() throws {
        guard (1...100).contains(loopIntervalMs) else { throw ValidationError("--loop-interval-ms must be 1…100") }
        guard (loopIntervalMs...100).contains(idleIntervalMs) else {
            throw ValidationError("--idle-interval-ms must be between --loop-interval-ms and 100")
        }
        guard (0...3).contains(securityProfile) else { throw ValidationError("--security-profile must be 0…3") }
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
        LoggingSystem.bootstrap { JournalLogHandler(label: $0, level: level) }
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
        if let b = station.backend, csms == nil {
            log.notice("station file line \(b.line): backend section (\(b.keys.joined(separator: ", "))) is not read yet: pass --csms and --identity to connect to a CSMS; running standalone")
        }
        log.notice("evsed starting: \(station.identity) serial \(station.serialNumber), board \(boardDescription.model) (\(board)), data \(station.dataDirectory), authorization \(station.authorization.mode.rawValue)")

        do {
            try DataDirectory.ensure(station.dataDirectory)
        } catch {
            log.critical("data directory \(station.dataDirectory): \(error)")
            throw ExitCode.failure
        }

        if csms != nil { OCPPWiring.applyStoredConfiguration(to: &station, log: log) }

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
        if let csms {
            do {
                let security = try OCPPWiring.securitySetup(
                    profile: securityProfile, authorizationKeyFile: authorizationKeyFile, roots: csmsRootCertificates,
                    clientCertificate: clientCertificate, clientKey: clientKey, dataDirectory: station.dataDirectory)
                ocpp = try OCPPWiring(csms: csms, identity: identity ?? station.identity, version: ocppVersion,
                                      station: station, boardModel: boardDescription.model,
                                      connectorCount: boardDescription.connectors.count, storage: evse.storage,
                                      security: security)
            } catch {
                log.critical("OCPP: \(error)")
                throw ExitCode(78)
            }
            ocpp?.attach(to: evse)
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
        notifier.ready(status: "charging standalone")
        log.notice("ready: \(boardDescription.connectors.count) connector(s)")

        let busyInterval = EVSEDuration.milliseconds(Int64(loopIntervalMs))
        let idleInterval = EVSEDuration.milliseconds(Int64(idleIntervalMs))
        let watchdogEvery = SystemdNotifier.watchdogInterval().map { EVSEDuration(microseconds: $0) }
        var lastWatchdog = clock.now()
        var next = clock.now()
        while shutdownSignal.load(ordering: .relaxed) == 0 {
            let began = clock.now()
            evse.step(at: began)
            ocpp?.afterStep(evse, at: began)
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
        if sig == OCPPWiring.restartSignal { OCPPWiring.restartProcess(log: log) }
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
