import FileTransfer
import HAL

/// What a firmware update needs from the station; the daemon fills it in from the station file.
public struct FirmwareUpdateSettings: Sendable {
    public var transfer: any FileTransferring
    /// Where firmware images are downloaded to (created when needed).
    public var firmwareDirectory: String
    /// Installs a downloaded image; nil: updates are downloaded, then InstallationFailed.
    public var installer: (any FirmwareInstalling)?
    public var maxFirmwareBytes: UInt64 = 1 << 30
    /// Used when the CSMS leaves retries / retryInterval out (both versions leave it to the station).
    public var defaultRetries = 3
    public var defaultRetryInterval: EVSEDuration = .seconds(Int64(60))

    public init(transfer: any FileTransferring, firmwareDirectory: String, installer: (any FirmwareInstalling)? = nil) {
        self.transfer = transfer
        self.firmwareDirectory = firmwareDirectory
        self.installer = installer
    }
}

/// The steps of an update, named as OCPP names them (1.6 SignedFirmwareStatusNotification and
/// 2.0.1 FirmwareStatusNotification share these names; 1.6's plain FirmwareStatusNotification
/// has a few of them).
public enum FirmwareUpdateStatus: String, Sendable, CaseIterable {
    case downloaded = "Downloaded"
    case downloadFailed = "DownloadFailed"
    case downloading = "Downloading"
    case downloadScheduled = "DownloadScheduled"
    case downloadPaused = "DownloadPaused"
    case idle = "Idle"
    case installationFailed = "InstallationFailed"
    case installing = "Installing"
    case installed = "Installed"
    case installRebooting = "InstallRebooting"
    case installScheduled = "InstallScheduled"
    case installVerificationFailed = "InstallVerificationFailed"
    case invalidSignature = "InvalidSignature"
    case signatureVerified = "SignatureVerified"
}

/// How the adapter tells the CSMS, in its version's messages, about the update.
public protocol FirmwareStatusReporting: Sendable {
    /// Queues the status notification of `status` for an update of `kind`; false (nothing
    /// queued) when that kind has no such status. `onDelivered` runs once the CSMS answered.
    func report(_ status: FirmwareUpdateStatus, of kind: FirmwareService.Kind, requestId: Int?,
                onDelivered: (@Sendable () async -> Void)?) -> Bool
    /// A security event (InvalidFirmwareSignature, FirmwareUpdated, …) for the station's log.
    func recordSecurityEvent(_ type: String, techInfo: String?)
    /// Notifications still on their way: the restart after an installation waits a little for them.
    var hasStatusOwed: Bool { get }
}
