#if canImport(Glibc)
import SmallFiles
import Glibc
#endif
import BoardDescription
import ChargingCore
import HAL
import Logging
import OCPP16
import OCPP201
import OCPP201DeviceModel
import OCPPSecurity
import OCPPTransport
import Station
import Storage
import Locking
import Synchronization

/// `evsed --csms URL --identity ID [--ocpp-version 1.6|2.0.1|auto]`: an OCPP charge point on the
/// station, through the station's port. Wiring only: the adapters are in OCPP16 and OCPP201, the
/// port in Station; the loop calls `port.serve(at:)` after every step.
///
/// With "auto" the WebSocket offers `ocpp2.0.1, ocpp1.6` and the adapter of the version the CSMS
/// selected last time runs (2.0.1 the first time; kept in `<data-dir>/ocpp-version-selected`).
/// When the CSMS selects the other one, that is remembered and the daemon restarts with it:
/// the adapter must be chosen before the station starts, because the station's recovery already
/// queues transaction messages in the adapter's format.
final class OCPPWiring {
    /// The value of `shutdownSignal` that means "restart" (a CSMS Reset, another OCPP version).
    static let restartSignal: Int32 = -1

    enum Adapter {
        case ocpp16(OCPP16Client)
        case ocpp201(OCPP201Client)
    }

    let adapter: Adapter
    let port: LoopStationPort
    /// The version this run speaks ("1.6" or "2.0.1").
    let version: String
    private let hardRestart = StopFlag()
    var restartHard: Bool { hardRestart.value.locked { $0 } }

    /// Before `Station.start`: the port hears the recovery's commands too, and every session
    /// start and end queues its message in the journal transaction that records it.
    init(backend: BackendSettings, station: StationConfig, boardModel: String, connectors: [ConnectorDescription],
         evse: Station, files: OCPP16FileServices? = nil) throws {
        let selectedFile = station.dataDirectory + "/" + Self.selectedVersionFileName
        let auto = backend.ocppVersion == "auto"
        version = auto ? Self.rememberedVersion(selectedFile) : backend.ocppVersion
        let subprotocols = auto ? Self.offeredWhenAuto : [Self.subprotocol(of: version)]
        let frameLog = backend.frameLog.map {
            OCPPFrameLog(path: station.dataDirectory + "/" + Self.frameLogFileName, maxFileBytes: $0.maxFileBytes, fileCount: $0.fileCount)
        }
        let hardRestart = hardRestart
        let log = Logger(label: "ocpp.wiring")
        port = LoopStationPort(station: evse) { hard in
            log.notice("\(hard ? "hard" : "soft") reset: restarting")
            hardRestart.value.locked { $0 = hard }
            shutdownSignal.store(Self.restartSignal, ordering: .relaxed)
        }
        let running = version
        let otherVersionSelected: @Sendable (String) -> Void = { subprotocol in
            guard auto, let other = Self.version(ofSubprotocol: subprotocol) else {
                log.error("the CSMS selected \(subprotocol), which this run does not speak")
                return
            }
            log.notice("the CSMS selected OCPP \(other) (this run speaks \(running)): restarting with it")
            Self.remember(other, in: selectedFile, log: log)
            shutdownSignal.store(Self.restartSignal, ordering: .relaxed)
        }
        // The station's clock (StationClock): messages are stamped with the time the journal
        // rows are, corrected together once the time is known.
        let wall = evse.wallClock
        let identity = backend.identity ?? station.identity
        if version == "2.0.1" {
            // Roots, station key and a password the CSMS set: the same files 1.6 uses.
            let pki = try OCPP201PKI(dataDirectory: station.dataDirectory)
            let password = try Self.basicAuthPassword(backend, stored: pki.authorizationKeys)
            let dataDirectory = station.dataDirectory, config = evse.storage.config
            // Per connection attempt: a password the CSMS set wins over the key file's; TLS for
            // whichever profile the network profile in use asks.
            let credentials: OCPP201Client.Credentials = { profile in
                let stored = try pki.authorizationKeys.loadPassword()
                let tls = try Self.tlsSettings201(backend, profile: profile, dataDirectory: dataDirectory, config: config,
                                                  unixMs: wall.unixMilliseconds())
                return (stored ?? password, tls)
            }
            // An AuthorizationKey an earlier version kept in the database leaves it, whatever runs now.
            try OCPP16SecuritySetup.moveStoredAuthorizationKey(from: evse.storage.config, dataDirectory: station.dataDirectory)
            let deviceModel = try DeviceModelWiring.open(
                storage: evse.storage,
                layout: DeviceModelWiring.layout(connectors, displayCanShowQRCode: evse.displayCanShowQRCode,
                                                 language: station.language),
                identity: StationIdentity(vendorName: "SwiftEVSE", model: boardModel, serialNumber: station.serialNumber,
                                          firmwareVersion: FirmwareVersion.reported(station.firmware), stationId: identity))
            // The profile this run connects with (SecurityCtrlr.SecurityProfile counts from 1).
            // Never lowered: a profile the CSMS raised it to (SetNetworkProfile) stays.
            if backend.securityProfile > Int(deviceModel.value(.securityProfile) ?? "") ?? 0 {
                deviceModel.setActual(.securityProfile, String(backend.securityProfile))
            }
            let client = try OCPP201Client(
                backendURL: backend.url, identity: identity,
                stationIdentity: .init(vendor: "SwiftEVSE", model: boardModel, serialNumber: station.serialNumber,
                                       firmwareVersion: FirmwareVersion.reported(station.firmware)),
                station: port, storage: evse.storage, unixMs: { wall.unixMilliseconds() },
                securityProfile: OCPPSecurityProfile(rawValue: backend.securityProfile) ?? .unsecured,
                basicAuthPassword: password, credentials: credentials, pki: pki, firmware: files?.firmware, uploads: files?.uploads,
                subprotocols: subprotocols,
                deviceModel: deviceModel, frameLog: frameLog,
                otherVersionSelected: otherVersionSelected, logger: Logger(label: "ocpp201"))
            adapter = .ocpp201(client)
            let transactions = client.chargingStation.transactions
            // Sessions opened under 1.6 on this data directory get their Started event first.
            transactions.reconcileWithJournal()
            evse.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
            evse.queuedMessageClockHooks = QueuedMessageClockHooks(
                shift: { TransactionEventService.shiftingTimestamps($0, floorMs: $1, deltaMs: $2) },
                flagUncorrectable: { TransactionEventService.flaggedUncorrectable(kind: $0, payload: $1) })
        } else {
            let security = try Self.securitySetup(backend, dataDirectory: station.dataDirectory)
            let client = try OCPP16Client(
                backendURL: backend.url, identity: identity,
                chargePointIdentity: .init(vendor: "SwiftEVSE", model: boardModel, serialNumber: station.serialNumber,
                                           firmwareVersion: FirmwareVersion.reported(station.firmware)),
                station: port, storage: evse.storage, numberOfConnectors: evse.connectorViews.count,
                unixMs: { wall.unixMilliseconds() }, security: security, frameLog: frameLog, files: files,
                subprotocols: subprotocols, otherVersionSelected: otherVersionSelected,
                logger: Logger(label: "ocpp16"))
            adapter = .ocpp16(client)
            let transactions = client.chargePoint.transactions
            // A journal of an earlier version may hold an open session whose StartTransaction was
            // never queued: queue it now, before the recovery queues anything after it.
            transactions.reconcileWithJournal()
            evse.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
            evse.queuedMessageClockHooks = QueuedMessageClockHooks(
                shift: { TransactionService.shiftingTimestamps($0, floorMs: $1, deltaMs: $2) })
        }
    }

    /// Remembers which version the CSMS selected (auto), for the next start.
    static let selectedVersionFileName = "ocpp-version-selected"
    static let offeredWhenAuto = ["ocpp2.0.1", "ocpp1.6"]

    static func subprotocol(of version: String) -> String { version == "2.0.1" ? "ocpp2.0.1" : "ocpp1.6" }

    static func version(ofSubprotocol subprotocol: String) -> String? {
        switch subprotocol {
        case "ocpp2.0.1": "2.0.1"
        case "ocpp1.6": "1.6"
        default: nil
        }
    }

    static func rememberedVersion(_ file: String) -> String {
        let text = SmallFile.text(file, limit: 64).map { String($0.filter { !$0.isWhitespace }) }
        return text == "1.6" ? "1.6" : "2.0.1"
    }

    static func remember(_ version: String, in file: String, log: Logger) {
        guard let f = fopen(file, "w") else {
            log.error("cannot write \(file): \(String(cString: strerror(errno)))")
            return
        }
        fputs(version + "\n", f)
        fflush(f)
        fsync(fileno(f))
        fclose(f)
    }

    /// Security profiles 1 and 2 with 2.0.1: the BasicAuthPassword (SecurityCtrlr), read from
    /// the authorization key file as text (never on the command line). Not needed once the CSMS
    /// set one (`stored`, which then wins).
    static func basicAuthPassword(_ backend: BackendSettings, stored: AuthorizationKeyStore) throws -> [UInt8]? {
        guard backend.securityProfile == 1 || backend.securityProfile == 2 else { return nil }
        guard let file = backend.authorizationKeyFile, let text = SmallFile.text(file, limit: 4_096) else {
            if (try stored.loadPassword()) != nil { return nil }
            throw DaemonFailure("OCPP 2.0.1 security profile \(backend.securityProfile) needs backend.authorization_key_file (the BasicAuthPassword)")
        }
        let password = String(text.filter { !$0.isNewline })
        // SecurityCtrlr.BasicAuthPassword: passwordString, 16 to 40 characters.
        guard (16...40).contains(password.count) else {
            throw DaemonFailure("\(file): a BasicAuthPassword has 16 to 40 characters, this one \(password.count)")
        }
        return Array(password.utf8)
    }

    /// Security profiles 2 and 3 with 2.0.1: the CSMS roots (installed as with 1.6, under
    /// `<data-dir>/certificates`) and the station's client certificate, through the same PKI.
    static func tlsSettings201(_ backend: BackendSettings, profile: OCPPSecurityProfile, dataDirectory: String, config: ConfigStore,
                               unixMs: UInt64) throws -> OCPPTLSSettings? {
        guard profile.rawValue >= 2 else { return nil }
        let setup = OCPP16SecuritySetup(profile: profile, centralSystemRootFiles: backend.csmsRootCertificates,
                                        clientCertificateFile: backend.clientCertificate, clientKeyFile: backend.clientKey,
                                        dataDirectory: dataDirectory)
        return try setup.makeService(store: config, unixMs: unixMs).tlsSettings()
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

    func start() {
        switch adapter {
        case .ocpp16(let client): Task { await client.start() }
        case .ocpp201(let client): Task { await client.start() }
        }
    }

    /// Closes the connection (waits up to 2 s).
    func stop() {
        let done = StopFlag()
        let adapter = adapter
        Task {
            switch adapter {
            case .ocpp16(let client): await client.stop()
            case .ocpp201(let client): await client.stop()
            }
            done.value.locked { $0 = true }
        }
        for _ in 0..<200 where !done.value.locked({ $0 }) {
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
