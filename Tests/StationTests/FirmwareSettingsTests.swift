import BoardDescription
import Logging
import Station
import Testing

@Suite("Station file: firmware section; recent log lines")
struct FirmwareSettingsTests {
    @Test func firmwareSectionSaysHowToInstallAndWhatToReport() throws {
        let c = try StationConfig.parse("""
            data_dir: /data
            firmware:
              installer: /usr/lib/swiftevse/install-firmware
              install_timeout_s: 600
              max_image_mb: 64
              version: "2.1.0"
              version_file: /etc/swiftevse/firmware-version
              require_signed: true
            """, file: "station.yaml")
        #expect(c.firmware.installer == "/usr/lib/swiftevse/install-firmware")
        #expect(c.firmware.installerLine == 3)
        #expect(c.firmware.installTimeoutSeconds == 600)
        #expect(c.firmware.maxImageBytes == 64 << 20)
        #expect(c.firmware.version == "2.1.0")
        #expect(c.firmware.versionFile == "/etc/swiftevse/firmware-version")
        #expect(c.firmware.requireSigned)
        #expect(c.firmware.downloadDirectory(dataDirectory: c.dataDirectory) == "/data/firmware", "default under the data directory")
        let defaults = try StationConfig.parse("", file: "s.yaml").firmware
        #expect(defaults.installer == nil && !defaults.requireSigned && defaults.version == nil)
    }

    @Test(arguments: [
        ("firmware:\n  installer: install.sh\n", 2, "firmware.installer", "absolute path"),
        ("firmware:\n  download_dir: fw\n", 2, "firmware.download_dir", "absolute path"),
        ("firmware:\n  install_timeout_s: 1\n", 2, "firmware.install_timeout_s", "expected 10…86400"),
        ("firmware:\n  max_image_mb: 0\n", 2, "firmware.max_image_mb", "expected 1…16384"),
        ("firmware:\n  version: \(String(repeating: "9", count: 51))\n", 2, "firmware.version", "at most 50"),
        ("firmware:\n  require_signed: sometimes\n", 2, "firmware.require_signed", "true or false"),
        ("firmware:\n  instaler: /bin/true\n", 2, "firmware.instaler", "unknown key"),
        ("firmware: /bin/true\n", 1, "firmware", "expected a mapping"),
    ])
    func errorsNameFileLineAndField(text: String, line: Int, field: String, words: String) {
        do {
            _ = try StationConfig.parse(text, file: "station.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.field == field)
            #expect(error.description.contains(words), "\(error)")
        }
    }

    @Test func recentLogLinesStayWithinTheirBounds() {
        let ring = RecentLogLines(maxLines: 100, maxBytes: 1 << 20)
        for i in 0..<1_000 { ring.append("line \(i)", atUnixMs: UInt64(i)) }
        let lines = ring.lines()
        #expect(lines.count <= 100 && lines.count >= 75)
        #expect(lines.last?.line == "line 999" && lines.last?.unixMs == 999, "the newest is kept")
        #expect(zip(lines, lines.dropFirst()).allSatisfy { $0.unixMs < $1.unixMs }, "oldest first")

        let small = RecentLogLines(maxLines: 10_000, maxBytes: 2_048)
        for i in 0..<1_000 { small.append(String(repeating: "x", count: 100) + "\(i)") }
        #expect(small.lines().reduce(0) { $0 + $1.line.utf8.count } <= 2_048)
        #expect(small.lines().last?.line.hasSuffix("999") == true)
    }

    @Test func theJournalHandlerKeepsWhatItWrites() {
        let ring = RecentLogLines()
        var handler = JournalLogHandler(label: "ocpp16", level: .info, recent: ring)
        handler.logLevel = .info
        let logger = Logger(label: "ocpp16") { _ in handler }
        logger.notice("firmware: Downloading")
        logger.debug("not at this level")
        #expect(ring.lines().map(\.line) == ["<5>ocpp16: firmware: Downloading"])
    }
}
