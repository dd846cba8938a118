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

/// `evsed --csms URL --identity ID [--ocpp-version 1.6]`: an OCPP 1.6J charge point on the
/// station, through the station's port. Wiring only: the adapter is in OCPP16, the port in
/// Station; the loop calls `port.serve(at:)` after every step.
final class OCPPWiring {
    /// The value of `shutdownSignal` that means "restart" (a CSMS Reset).
    static let restartSignal: Int32 = -1

    let client: OCPP16Client
    let port: LoopStationPort
    private let hardRestart = StopFlag()
    var restartHard: Bool { hardRestart.value.withLock { $0 } }

    /// Before `Station.start`: the port hears the recovery's commands too, and every session
    /// start and end queues its message in the journal transaction that records it.
    init(backend: BackendSettings, station: StationConfig, boardModel: String, evse: Station,
         files: OCPP16FileServices? = nil) throws {
        guard backend.ocppVersion == "1.6" else { throw DaemonFailure("OCPP \(backend.ocppVersion): only 1.6 is supported so far") }
        let security = try Self.securitySetup(backend, dataDirectory: station.dataDirectory)
        let frameLog = backend.frameLog.map {
            OCPPFrameLog(path: station.dataDirectory + "/" + Self.frameLogFileName, maxFileBytes: $0.maxFileBytes, fileCount: $0.fileCount)
        }
        let hardRestart = hardRestart
        let log = Logger(label: "ocpp16.wiring")
        port = LoopStationPort(station: evse) { hard in
            log.notice("\(hard ? "hard" : "soft") reset: restarting")
            hardRestart.value.withLock { $0 = hard }
            shutdownSignal.store(Self.restartSignal, ordering: .relaxed)
        }
        let wall = SystemWallClock()
        client = try OCPP16Client(
            backendURL: backend.url, identity: backend.identity ?? station.identity,
            chargePointIdentity: .init(vendor: "SwiftEVSE", model: boardModel, serialNumber: station.serialNumber,
                                       firmwareVersion: FirmwareVersion.reported(station.firmware)),
            station: port, storage: evse.storage, numberOfConnectors: evse.connectorViews.count,
            unixMs: { wall.unixMilliseconds() }, security: security, frameLog: frameLog, files: files,
            logger: Logger(label: "ocpp16"))
        let transactions = client.chargePoint.transactions
        // A journal of an earlier version may hold an open session whose StartTransaction was
        // never queued: queue it now, before the recovery queues anything after it.
        transactions.reconcileWithJournal()
        evse.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
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
        let client = client
        Task { await client.start() }
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
