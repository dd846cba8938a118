#if canImport(Glibc)
import FirmwareUpdate
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import HAL
import Logging
import OCPP16Messages
import Storage

/// GetDiagnostics (FirmwareManagement) and the whitepaper's GetLog: put the archive or log
/// together, upload it to the CSMS's location with retries, and report each step. One upload at
/// a time: a new request gives up the running one (GetLog answers AcceptedCanceled then).
public actor DiagnosticsService {
    public enum Upload: Sendable, Hashable {
        /// GetDiagnostics: the diagnostics archive; DiagnosticsStatusNotification.
        case diagnostics
        /// GetLog: the archive (DiagnosticsLog) or the security log; LogStatusNotification.
        case log(GetLogRequest.LogEnumType, requestId: Int)
    }

    /// What a request asks for.
    public struct Request: Sendable {
        public var upload: Upload
        public var location: String
        /// Only what happened in this window (unix ms), where things carry a time.
        public var fromMs: UInt64?
        public var toMs: UInt64?
        public var retries: Int?
        public var retryIntervalSeconds: Int?
    }

    private let settings: OCPP16FileServices
    private let securityLog: SecurityEventLog
    private let journal: SessionJournal
    private let outbox: FileStatusOutbox
    private let unixMs: @Sendable () -> UInt64
    private let sleep: OCPP16ChargePoint.Sleeper
    private let logger: Logger

    private var running: (upload: Upload, generation: Int)?
    private var generation = 0
    private var task: Task<Void, Never>?

    init(settings: OCPP16FileServices, storage: StationStorage, outbox: FileStatusOutbox,
         unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping OCPP16ChargePoint.Sleeper, logger: Logger) {
        self.settings = settings
        securityLog = storage.securityLog
        journal = storage.journal
        self.outbox = outbox
        self.unixMs = unixMs
        self.sleep = sleep
        self.logger = logger
    }

    /// Starts the upload and returns the name the file will have at the location, and whether
    /// a running upload was given up for it. `snapshot` is what the charge point knows now.
    func start(_ request: Request, stationName: String, snapshot: DiagnosticsSnapshot) -> (fileName: String, canceledRunning: Bool) {
        let canceled = running != nil
        if let previous = running {
            task?.cancel()
            logger.notice("\(Self.name(previous.upload)): given up for a new request")
        }
        generation += 1
        let g = generation
        let fileName = Self.fileName(request.upload, stationName: stationName, atUnixMs: unixMs())
        running = (request.upload, g)
        task = Task { await self.run(request, fileName: fileName, snapshot: snapshot, generation: g) }
        return (fileName, canceled)
    }

    /// A request whose location cannot be used: reported as failed at once.
    func refuse(_ upload: Upload, why: String) {
        logger.warning("\(Self.name(upload)): \(why)")
        post(upload, failure: .invalidURL(why))
    }

    /// What a DiagnosticsStatusNotification triggered now says.
    func diagnosticsStatus() -> DiagnosticsStatusNotificationRequest.DiagnosticsStatus {
        if case .diagnostics = running?.upload { return .uploading }
        return .idle
    }

    /// What a LogStatusNotification triggered now says.
    func logStatus() -> LogStatusNotificationRequest {
        if case let .log(_, requestId) = running?.upload { return LogStatusNotificationRequest(status: .uploading, requestId: requestId) }
        return LogStatusNotificationRequest(status: .idle)
    }

    /// The charge point stops: the work in progress ends where it is, as if the process ended
    /// (the state on disk says what to do at the next start).
    func shutDown() {
        task?.cancel()
        task = nil
        running = nil
        generation += 1
    }

    // MARK: The upload

    private func run(_ request: Request, fileName: String, snapshot: DiagnosticsSnapshot, generation g: Int) async {
        let path = settings.uploadDirectory + "/" + fileName
        defer {
            unlink(path)
            if running?.generation == g { running = nil }
        }
        do {
            try LocalFiles.ensureDirectory(settings.uploadDirectory)
            let contents = DiagnosticsArchive(sources: settings.sources, securityLog: securityLog, journal: journal,
                                              fromMs: request.fromMs, toMs: request.toMs, nowMs: unixMs())
            switch request.upload {
            case .diagnostics, .log(.diagnosticsLog, _):
                try contents.writeArchive(to: path, snapshot: snapshot)
            case .log(.securityLog, _):
                try contents.writeSecurityLog(to: path)
            }
        } catch {
            logger.error("\(Self.name(request.upload)): cannot put \(fileName) together: \(error)")
            post(request.upload, failure: error)
            return
        }
        guard !Task.isCancelled else { return }
        post(request.upload, uploading: true)
        let attempts = max(0, request.retries ?? settings.defaultRetries) + 1
        let interval = max(0, request.retryIntervalSeconds ?? Int(settings.defaultRetryInterval.microseconds / 1_000_000))
        for attempt in 1...attempts {
            do {
                try await settings.transfer.upload(path, to: request.location, as: fileName)
                guard !Task.isCancelled else { return }
                logger.notice("\(Self.name(request.upload)): \(fileName) uploaded to \(FileTransferURL.redacted(request.location))")
                post(request.upload, uploading: false)
                return
            } catch {
                guard !Task.isCancelled, error != .cancelled else { return }
                if attempt == attempts {
                    logger.error("\(Self.name(request.upload)): upload failed: \(error); given up after \(attempt) attempt(s)")
                    post(request.upload, failure: error)
                    return
                }
                logger.warning("\(Self.name(request.upload)): upload failed: \(error); attempt \(attempt) of \(attempts), again in \(interval) s")
                await sleep(.seconds(Int64(interval)))
                guard !Task.isCancelled else { return }
            }
        }
    }

    private func post(_ upload: Upload, uploading: Bool) {
        switch upload {
        case .diagnostics:
            outbox.post(.diagnostics(DiagnosticsStatusNotificationRequest(status: uploading ? .uploading : .uploaded)))
        case let .log(_, requestId):
            outbox.post(.log(LogStatusNotificationRequest(status: uploading ? .uploading : .uploaded, requestId: requestId)))
        }
    }

    private func post(_ upload: Upload, failure: FileTransferError) {
        switch upload {
        case .diagnostics:
            outbox.post(.diagnostics(DiagnosticsStatusNotificationRequest(status: .uploadFailed)))
        case let .log(_, requestId):
            let status: LogStatusNotificationRequest.UploadLogStatusEnumType
            switch failure.kind {
            case .permissionDenied: status = .permissionDenied
            case .notSupported: status = .notSupportedOperation
            case .badMessage: status = .badMessage
            case .other: status = .uploadFailure
            }
            outbox.post(.log(LogStatusNotificationRequest(status: status, requestId: requestId)))
        }
    }

    static func name(_ upload: Upload) -> String {
        switch upload {
        case .diagnostics: return "GetDiagnostics"
        case let .log(type, requestId): return "GetLog \(type.rawValue) \(requestId)"
        }
    }

    /// `diagnostics-<station>-<UTC time>.tar`, `securitylog-<station>-<UTC time>.log`: what an
    /// operator finds among the uploads of a fleet (at most 255 characters, as OCPP allows).
    static func fileName(_ upload: Upload, stationName: String, atUnixMs: UInt64) -> String {
        let stamp = OCPP16Timestamp.string(unixMs: atUnixMs / 1_000 * 1_000)
            .filter { $0 != "-" && $0 != ":" }.replacingDot()
        let station = String(stationName.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" }.prefix(64))
        switch upload {
        case .diagnostics, .log(.diagnosticsLog, _): return "diagnostics-\(station)-\(stamp).tar"
        case .log(.securityLog, _): return "securitylog-\(station)-\(stamp).log"
        }
    }
}

extension String {
    /// `20260101T000000.000Z` → `20260101T000000Z`.
    fileprivate func replacingDot() -> String {
        guard let dot = firstIndex(of: ".") else { return self }
        let z = self[dot...].firstIndex(of: "Z") ?? endIndex
        return String(self[..<dot]) + String(self[z...])
    }
}

extension DiagnosticsService {
    /// FirmwareManagement's GetDiagnostics and the whitepaper's GetLog (registered only where
    /// the service runs).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(GetDiagnosticsRequest.self) { chargePoint, request in await chargePoint.getDiagnostics(request) }
        registry.register(GetLogRequest.self) { chargePoint, request in await chargePoint.getLog(request) }
    }
}
