#if canImport(Glibc)
import SmallFiles
import Glibc
#endif
import LogUpload
import HAL
import OCPP16
import OCPPTransport
import Station

/// The version this build of evsed reports in BootNotification (unless the station file's
/// `firmware.version_file` or `firmware.version` says otherwise).
enum FirmwareVersion {
    static let built = "0.6.0"

    /// The version to report: the version file's first line (an installer may write it), then
    /// the station file's `version`, then the built-in one.
    static func reported(_ settings: FirmwareSettings) -> String {
        if let file = settings.versionFile, let text = readFirstLine(file), !text.isEmpty {
            return String(text.prefix(50))
        }
        return settings.version ?? built
    }

    private static func readFirstLine(_ path: String) -> String? {
        guard let text = SmallFile.text(path) else { return nil }
        let line = text.utf8.prefix(256).prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        return String(decoding: line, as: UTF8.self).filter { !$0.isWhitespace || $0 == " " }
    }
}

/// FirmwareManagement, SignedUpdateFirmware and GetLog for the daemon.
enum FirmwareWiring {
    /// The services from the station file's `firmware:` section; the archive gets the board
    /// and station files, the frame log with its rotations, and the recent log lines.
    static func fileServices(station: StationConfig, boardPath: String, recentLog: RecentLogLines?,
                             frameLogFiles: Int) -> OCPP16FileServices {
        let settings = station.firmware
        var files = OCPP16FileServices.forStation(
            dataDirectory: station.dataDirectory,
            firmwareDirectory: settings.downloadDirectory(dataDirectory: station.dataDirectory),
            installer: settings.installer, installTimeout: .seconds(Int64(settings.installTimeoutSeconds)))
        files.maxFirmwareBytes = settings.maxImageBytes
        files.requireSignedFirmware = settings.requireSigned
        let frameLog = station.dataDirectory + "/" + OCPPWiring.frameLogFileName
        let stationFile = station.file
        files.sources = DiagnosticsSources(
            recentLogLines: { recentLog?.lines() ?? [] },
            files: {
                var list = [(name: "board.yaml", path: boardPath)]
                if let stationFile { list.append((name: "station.yaml", path: stationFile)) }
                list.append((name: OCPPWiring.frameLogFileName, path: frameLog))
                for i in 1..<max(2, frameLogFiles + 1) {
                    list.append((name: "\(OCPPWiring.frameLogFileName).\(i)", path: "\(frameLog).\(i)"))
                }
                return list.filter { access($0.path, R_OK) == 0 }
            })
        return files
    }

    /// The installer must be there and executable: found at start, not at the first update.
    static func checkInstaller(_ station: StationConfig) -> String? {
        guard let installer = station.firmware.installer, access(installer, X_OK) != 0 else { return nil }
        return "\(station.file ?? "station file"):\(station.firmware.installerLine): firmware.installer: \(installer) is not an executable file (\(String(cString: strerror(errno))))"
    }
}
