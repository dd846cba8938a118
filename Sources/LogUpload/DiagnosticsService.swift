#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import HAL
import Logging
import OCPPJSON
import Storage

/// Logs up, as both OCPP versions ask for them (1.6 GetDiagnostics and GetLog, 2.0.1 GetLog):
/// put the archive or log together, upload it to the CSMS's location with retries, and report
/// each step through the adapter (`UploadStatusReporting`). One upload at a time: a new request
/// gives up the running one (GetLog answers AcceptedCanceled then).
public actor DiagnosticsService {
    public typealias Sleeper = @Sendable (EVSEDuration) async -> Void

    /// What GetLog asks for (the names both versions use).
    public enum LogKind: String, Sendable, Hashable {
        /// The diagnostics archive.
        case diagnosticsLog = "DiagnosticsLog"
        /// The security events as text.
        case securityLog = "SecurityLog"
    }

    public enum Upload: Sendable, Hashable {
        /// 1.6 GetDiagnostics: the diagnostics archive; DiagnosticsStatusNotification.
        case diagnostics
        /// GetLog: the archive (DiagnosticsLog) or the security log; LogStatusNotification.
        case log(LogKind, requestId: Int)
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

        public init(upload: Upload, location: String, fromMs: UInt64? = nil, toMs: UInt64? = nil, retries: Int? = nil,
                    retryIntervalSeconds: Int? = nil) {
            self.upload = upload
            self.location = location
            self.fromMs = fromMs
            self.toMs = toMs
            self.retries = retries
            self.retryIntervalSeconds = retryIntervalSeconds
        }
    }

    private let settings: UploadSettings
    private let securityLog: SecurityEventLog
    private let journal: SessionJournal
    private let reporter: any UploadStatusReporting
    private let unixMs: @Sendable () -> UInt64
    private let sleep: Sleeper
    private let logger: Logger

    private var running: (upload: Upload, generation: Int)?
    private var generation = 0
    private var task: Task<Void, Never>?

    public init(settings: UploadSettings, storage: StationStorage, reporter: any UploadStatusReporting,
                unixMs: @escaping @Sendable () -> UInt64, sleep: @escaping Sleeper, logger: Logger) {
        self.settings = settings
        securityLog = storage.securityLog
        journal = storage.journal
        self.reporter = reporter
        self.unixMs = unixMs
        self.sleep = sleep
        self.logger = logger
    }

    /// Starts the upload and returns the name the file will have at the location, and whether
    /// a running upload was given up for it. `snapshot` is what the charge point knows now.
    public func start(_ request: Request, stationName: String, snapshot: DiagnosticsSnapshot) -> (fileName: String, canceledRunning: Bool) {
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
    public func refuse(_ upload: Upload, why: String) {
        logger.warning("\(Self.name(upload)): \(why)")
        reporter.report(.failed(.invalidURL(why)), of: upload)
    }

    /// The upload running now, if any: what a triggered status notification says.
    public func runningUpload() -> Upload? { running?.upload }

    /// The charge point stops: the work in progress ends where it is, as if the process ended
    /// (the state on disk says what to do at the next start).
    public func shutDown() {
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
            reporter.report(.failed(error), of: request.upload)
            return
        }
        guard !Task.isCancelled else { return }
        reporter.report(.uploading, of: request.upload)
        let attempts = max(0, request.retries ?? settings.defaultRetries) + 1
        let interval = max(0, request.retryIntervalSeconds ?? Int(settings.defaultRetryInterval.microseconds / 1_000_000))
        for attempt in 1...attempts {
            do {
                try await settings.transfer.upload(path, to: request.location, as: fileName)
                guard !Task.isCancelled else { return }
                logger.notice("\(Self.name(request.upload)): \(fileName) uploaded to \(FileTransferURL.redacted(request.location))")
                reporter.report(.uploaded, of: request.upload)
                return
            } catch {
                guard !Task.isCancelled, error != .cancelled else { return }
                if attempt == attempts {
                    logger.error("\(Self.name(request.upload)): upload failed: \(error); given up after \(attempt) attempt(s)")
                    reporter.report(.failed(error), of: request.upload)
                    return
                }
                logger.warning("\(Self.name(request.upload)): upload failed: \(error); attempt \(attempt) of \(attempts), again in \(interval) s")
                await sleep(.seconds(Int64(interval)))
                guard !Task.isCancelled else { return }
            }
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
        let stamp = OCPPTimestamp.string(unixMs: atUnixMs / 1_000 * 1_000)
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

/// A step of an upload, for the adapter to tell the CSMS in its version's words.
public enum UploadStatus: Sendable, Equatable {
    case uploading
    case uploaded
    /// The archive could not be put together, the location not be used, or every attempt failed.
    case failed(FileTransferError)
}

extension UploadStatus {
    /// The LogStatusNotification status both versions name it with (1.6 whitepaper and 2.0.1
    /// UploadLogStatusEnumType): a failure says what the operator should fix.
    public var logStatusName: String {
        switch self {
        case .uploading: "Uploading"
        case .uploaded: "Uploaded"
        case .failed(let error):
            switch error.kind {
            case .permissionDenied: "PermissionDenied"
            case .notSupported: "NotSupportedOperation"
            case .badMessage: "BadMessage"
            case .other: "UploadFailure"
            }
        }
    }
}

/// How the adapter tells the CSMS about uploads (1.6 DiagnosticsStatusNotification and
/// LogStatusNotification, 2.0.1 LogStatusNotification).
public protocol UploadStatusReporting: Sendable {
    func report(_ status: UploadStatus, of upload: DiagnosticsService.Upload)
}

/// What an upload needs from the station; the daemon fills it in from the station file.
public struct UploadSettings: Sendable {
    public var transfer: any FileTransferring
    /// Where archives and logs are put together before the upload (created when needed).
    public var uploadDirectory: String
    /// What the diagnostics archive holds besides the database.
    public var sources: DiagnosticsSources
    /// Used when the CSMS leaves retries / retryInterval out.
    public var defaultRetries = 3
    public var defaultRetryInterval: EVSEDuration = .seconds(Int64(60))

    public init(transfer: any FileTransferring, uploadDirectory: String, sources: DiagnosticsSources = DiagnosticsSources()) {
        self.transfer = transfer
        self.uploadDirectory = uploadDirectory
        self.sources = sources
    }
}
