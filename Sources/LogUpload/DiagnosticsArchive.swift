#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FileTransfer
import OCPPJSON
import Storage

/// What the charge point knows at the moment of a diagnostics request (its state is the
/// actor's, the archive is written later on another task).
public struct DiagnosticsSnapshot: Sendable {
    /// `key = value` lines about the station: identity, firmware version, registration, the
    /// firmware update, the connectors.
    public var station: [String]
    /// GetConfiguration as the CSMS would see it: AuthorizationKey is never in it.
    public var configuration: [String]

    public init(station: [String], configuration: [String]) {
        self.station = station
        self.configuration = configuration
    }
}

extension DiagnosticsSnapshot {
    /// The lines every `station.txt` starts with, whichever version asked.
    public static func identityLines(vendor: String, model: String, serialNumber: String?, firmwareVersion: String?) -> [String] {
        ["vendor = \(vendor)", "model = \(model)", "serial_number = \(serialNumber ?? "-")",
         "firmware_version = \(firmwareVersion ?? "-")"]
    }

    /// One line per connector (1.6) or EVSE (2.0.1): `<label> = <status>[ <error>][ <session>][ <n> Wh]`.
    public static func connectorLine(_ label: String, status: String?, error: String?, session: String?, energyWh: String?) -> String {
        "\(label) = \(status ?? "unknown")\(error.map { " \($0)" } ?? "")\(session.map { " \($0)" } ?? "")\(energyWh.map { " \($0) Wh" } ?? "")"
    }
}

/// The diagnostics archive a field engineer opens (a ustar file, `tar -xf`):
/// - `station.txt`: identity, firmware, registration, connectors, the firmware update;
/// - `evsed.log`: the daemon's recent log lines (in the request's time window);
/// - `configuration.txt`: every OCPP configuration key and its value (no secrets);
/// - `security-events.log`: the security log (in the window);
/// - `sessions.csv`: the latest sessions (those overlapping the window);
/// - the station's files (the board file, the OCPP frame log and its rotations) as they are.
struct DiagnosticsArchive {
    let sources: DiagnosticsSources
    let securityLog: SecurityEventLog
    let journal: SessionJournal
    let fromMs: UInt64?
    let toMs: UInt64?
    let nowMs: UInt64

    static let maxSecurityEvents = 10_000
    static let maxSessions = 1_000

    func writeArchive(to path: String, snapshot: DiagnosticsSnapshot) throws(FileTransferError) {
        let tar = try TarArchiveWriter(path: path)
        let mtime = Int64(nowMs / 1_000)
        var station = snapshot.station
        station.append("archive_created = \(OCPPTimestamp.string(unixMs: nowMs))")
        station.append("window = \(fromMs.map { OCPPTimestamp.string(unixMs: $0) } ?? "-") … \(toMs.map { OCPPTimestamp.string(unixMs: $0) } ?? "-")")
        try tar.add(name: "station.txt", text: station.joined(separator: "\n") + "\n", modifiedAt: mtime)
        let lines = sources.recentLogLines().filter { inWindow($0.unixMs) }
            .map { OCPPTimestamp.string(unixMs: $0.unixMs) + " " + $0.line }
        try tar.add(name: "evsed.log", text: lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n", modifiedAt: mtime)
        try tar.add(name: "configuration.txt", text: snapshot.configuration.joined(separator: "\n") + "\n", modifiedAt: mtime)
        try tar.add(name: "security-events.log", text: try securityLogText(), modifiedAt: mtime)
        try tar.add(name: "sessions.csv", text: try sessionsCSV(), modifiedAt: mtime)
        var seen: Set<String> = []
        // Missing files (no frame log configured, nothing rotated yet) are simply not there.
        for file in sources.files() where access(file.path, F_OK) == 0 && seen.insert(file.name).inserted {
            do { try tar.addFile(name: file.name, from: file.path) } catch {
                // A file rotated away or unreadable does not spoil the rest of the archive.
                try tar.add(name: file.name + ".unreadable", text: "\(error)\n", modifiedAt: mtime)
            }
        }
        try tar.finish()
    }

    /// GetLog SecurityLog: the security log as text, one event per line, oldest first.
    func writeSecurityLog(to path: String) throws(FileTransferError) {
        try LocalFiles.write(Array(try securityLogText().utf8), to: path)
    }

    private func inWindow(_ ms: UInt64) -> Bool {
        if let fromMs, ms < fromMs { return false }
        if let toMs, ms > toMs { return false }
        return true
    }

    /// `<time> <type> [<techInfo>] (not yet sent to the CSMS)`.
    func securityLogText() throws(FileTransferError) -> String {
        let events: [SecurityEvent]
        do { events = try securityLog.recent(limit: Self.maxSecurityEvents) } catch {
            throw .localFile("security log: \(error)")
        }
        let lines = events.reversed().filter { inWindow(UInt64(max(0, $0.occurredAtMs))) }.map { e in
            OCPPTimestamp.string(unixMs: UInt64(max(0, e.occurredAtMs))) + " " + e.kind
                + (e.detail.map { " " + $0.replacingLineBreaks() } ?? "")
                + (e.notifiedAtMs == nil ? " (not yet sent to the CSMS)" : "")
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    func sessionsCSV() throws(FileTransferError) -> String {
        let sessions: [SessionRecord]
        do { sessions = try journal.recentSessions(limit: Self.maxSessions) } catch {
            throw .localFile("session journal: \(error)")
        }
        var lines = ["id,connector,id_token,transaction_id,state,start_reason,started,meter_start_wh,stop_reason,meter_stop_wh,ended"]
        for s in sessions.reversed() {
            let started = UInt64(max(0, s.startedAtMs))
            let ended = s.endedAtMs.map { UInt64(max(0, $0)) }
            // Overlapping the window: started before its end, not ended before its start.
            if let toMs, started > toMs { continue }
            if let fromMs, let ended, ended < fromMs { continue }
            let fields: [String] = [
                s.id, String(s.connectorId), s.idToken ?? "", s.transactionId ?? "", s.state, s.startReason ?? "",
                OCPPTimestamp.string(unixMs: started), String(s.meterStartWh), s.stopReason ?? "",
                s.meterStopWh.map { String($0) } ?? "", ended.map { OCPPTimestamp.string(unixMs: $0) } ?? "",
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingLineBreaks() -> String {
        String(map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in self {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out
    }
}

/// Station-side material for the diagnostics archive the adapter cannot read itself.
public struct DiagnosticsSources: Sendable {
    /// The daemon's recent log lines, oldest first, with their wall-clock time (unix ms).
    public var recentLogLines: @Sendable () -> [(unixMs: UInt64, line: String)] = { [] }
    /// Files copied into the archive whole, as (member name, path); missing ones are skipped
    /// (the board file, the OCPP frame log and its rotated predecessors).
    public var files: @Sendable () -> [(name: String, path: String)] = { [] }

    public init(recentLogLines: @escaping @Sendable () -> [(unixMs: UInt64, line: String)] = { [] },
                files: @escaping @Sendable () -> [(name: String, path: String)] = { [] }) {
        self.recentLogLines = recentLogLines
        self.files = files
    }
}
