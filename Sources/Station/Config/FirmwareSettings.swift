import ConfigFile

/// The `firmware:` section: how this station installs firmware a CSMS sends (UpdateFirmware,
/// SignedUpdateFirmware) and what version it reports.
public struct FirmwareSettings: Sendable, Equatable {
    /// The line of the section (0: no section), for messages about it found after parsing.
    public var line = 0
    /// An executable run with the downloaded image's path as its argument; exit 0 = installed,
    /// in effect after the daemon restarts. Without it updates are downloaded and then reported
    /// InstallationFailed.
    public var installer: String?
    /// The line of `installer`, for the check that it is executable.
    public var installerLine = 0
    /// How long the installer may run before it is stopped and the installation failed.
    public var installTimeoutSeconds = 1_800
    /// Where images are downloaded to (nil: `<data_dir>/firmware`).
    public var downloadDirectory: String?
    /// Larger downloads are refused (DownloadFailed).
    public var maxImageBytes: UInt64 = 1 << 30
    /// The firmware version reported in BootNotification instead of the built-in one.
    public var version: String?
    /// A file whose first line is the version (read at every start, so an installer can write
    /// the version of what it installed); wins over `version`.
    public var versionFile: String?
    /// The security whitepaper's rule: answer the unsigned UpdateFirmware NotSupported.
    public var requireSigned = false

    public init() {}

    /// The directory images go to, for the given data directory.
    public func downloadDirectory(dataDirectory: String) -> String {
        downloadDirectory ?? dataDirectory + "/firmware"
    }
}

extension StationConfig {
    static func firmware(_ node: ConfigNode, _ r: ConfigReader) throws(ConfigFileError) -> FirmwareSettings {
        var s = FirmwareSettings()
        s.line = node.line
        var f = try r.mapping(node, "firmware")
        if let n = f.optional("installer") {
            let path = try r.string(n, f.sub("installer"))
            guard path.hasPrefix("/") else {
                throw r.error(n, f.sub("installer"), "expected the absolute path of an executable, found \(path)")
            }
            s.installer = path
            s.installerLine = n.line
        }
        if let n = f.optional("install_timeout_s") {
            s.installTimeoutSeconds = try r.int(n, f.sub("install_timeout_s"), in: 10...86_400, unit: "s")
        }
        if let n = f.optional("download_dir") {
            let path = try r.string(n, f.sub("download_dir"))
            guard path.hasPrefix("/") else { throw r.error(n, f.sub("download_dir"), "expected an absolute path, found \(path)") }
            s.downloadDirectory = path
        }
        if let n = f.optional("max_image_mb") {
            s.maxImageBytes = UInt64(try r.int(n, f.sub("max_image_mb"), in: 1...16_384, unit: "MB")) << 20
        }
        if let n = f.optional("version") {
            let v = try r.string(n, f.sub("version"))
            guard v.count <= 50 else { throw r.error(n, f.sub("version"), "at most 50 characters (OCPP's firmwareVersion), found \(v.count)") }
            s.version = v
        }
        if let n = f.optional("version_file") { s.versionFile = try r.string(n, f.sub("version_file")) }
        if let n = f.optional("require_signed") { s.requireSigned = try r.bool(n, f.sub("require_signed")) }
        try f.finish()
        return s
    }
}
