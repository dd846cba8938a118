import FileTransfer
import Logging
import OCPPJSON
import Storage

/// The update as kept on disk (ConfigStore, one JSON value): where it is, so a restart picks
/// it up there or reports how it ended.
extension FirmwareService {
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

    // MARK: Persistence

    func save() {
        guard let store else { return }
        do {
            if let job { try store.set(JSONWriter.writeString(job.json), for: storeKey) } else { try store.remove(storeKey) }
        } catch {
            logger.error("firmware: cannot store the update's state: \(error)")
        }
    }

    func loadJob() -> Job? {
        guard let text = (try? store?.value(for: storeKey)) ?? nil else { return nil }
        guard let value = try? JSONParser.parse(text), let j = Job(json: value) else {
            logger.error("firmware: the stored update state is unreadable; forgotten")
            return nil
        }
        return j
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
