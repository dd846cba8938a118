import FileTransfer
import FirmwareUpdate
import HAL
import LogUpload
import OCPPSecurity

/// What the FirmwareManagement profile, SignedUpdateFirmware and GetLog need from the station;
/// the daemon fills it in from the station file. Without it those actions are NotImplemented.
public struct OCPP16FileServices: Sendable {
    public var transfer: any FileTransferring
    /// Where firmware images are downloaded to (created when needed).
    public var firmwareDirectory: String
    /// Where diagnostics archives and logs are put together before the upload (created when needed).
    public var uploadDirectory: String
    /// Installs a downloaded image; nil: updates are downloaded, then InstallationFailed.
    public var installer: (any FirmwareInstalling)?
    public var maxFirmwareBytes: UInt64 = 1 << 30
    /// The security whitepaper: a charge point that does secure firmware updates answers the
    /// unsigned UpdateFirmware with CALLERROR NotSupported.
    public var requireSignedFirmware = false
    /// What the diagnostics archive holds besides the database.
    public var sources = DiagnosticsSources()
    /// Used when the CSMS leaves retries / retryInterval out (both leave it to the charge point).
    public var defaultRetries = 3
    public var defaultRetryInterval: EVSEDuration = .seconds(Int64(60))

    public init(transfer: any FileTransferring, firmwareDirectory: String, uploadDirectory: String,
                installer: (any FirmwareInstalling)? = nil) {
        self.transfer = transfer
        self.firmwareDirectory = firmwareDirectory
        self.uploadDirectory = uploadDirectory
        self.installer = installer
    }
}

extension OCPP16FileServices {
    /// What the shared log upload takes of these.
    public var uploads: UploadSettings {
        var u = UploadSettings(transfer: transfer, uploadDirectory: uploadDirectory, sources: sources)
        u.defaultRetries = defaultRetries
        u.defaultRetryInterval = defaultRetryInterval
        return u
    }

    /// What the shared firmware update takes of these.
    public var firmware: FirmwareUpdateSettings {
        var f = FirmwareUpdateSettings(transfer: transfer, firmwareDirectory: firmwareDirectory, installer: installer)
        f.maxFirmwareBytes = maxFirmwareBytes
        f.defaultRetries = defaultRetries
        f.defaultRetryInterval = defaultRetryInterval
        return f
    }

    /// The daemon's: the NIO client, trusting for HTTPS the system's roots and the
    /// CentralSystemRootCertificates installed under `<dataDirectory>/certificates` (read again
    /// for every connection); archives are put together under `<dataDirectory>/uploads`.
    public static func forStation(dataDirectory: String, firmwareDirectory: String, installer: String?,
                                  installTimeout: EVSEDuration) -> OCPP16FileServices {
        var settings = FileTransferSettings()
        let certificates = dataDirectory + "/certificates"
        settings.additionalTrustRoots = {
            guard let store = try? InstalledCertificateStore(directory: certificates),
                  let roots = try? store.certificates(of: .centralSystemRootCertificate) else { return [] }
            return roots.compactMap { try? Array($0.pem().utf8) }
        }
        return OCPP16FileServices(transfer: FileTransferClient(settings: settings), firmwareDirectory: firmwareDirectory,
                                  uploadDirectory: dataDirectory + "/uploads",
                                  installer: installer.map { CommandFirmwareInstaller(executable: $0, timeout: installTimeout) })
    }
}
