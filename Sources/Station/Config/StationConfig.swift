import ConfigFile
import HAL

/// How a station decides who may charge when no backend answers (standalone or offline).
public enum StationAuthorizationMode: String, Sendable, CaseIterable {
    /// Anyone may charge: plugging in starts a session with no card.
    case freeVend = "free_vend"
    /// Only cards on the local authorization list (the demo cards, or a list a backend sent).
    case localList = "local_list"
    /// Local list first, then the authorization cache, then the backend (later issues).
    case localListAndCache = "local_list_and_cache"
}

/// What happens to a session the journal still holds open when the daemon starts
/// (after a crash, a power cut or `kill -9`).
public enum RecoveryPolicy: String, Sendable, CaseIterable {
    /// Keep the session if the EV is still plugged in; end it otherwise.
    case resume
    /// Always end it, with the meter register read at start as its meter stop.
    case end
}

/// A card seeded into the local authorization list at start.
public struct DemoCard: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable { case accepted, blocked, expired, invalid }
    public var idToken: String
    public var status: Status
    public init(idToken: String, status: Status) {
        self.idToken = idToken
        self.status = status
    }
}

/// Offline behaviour (OCPP's LocalAuthorizeOffline, AuthorizeRemoteTxRequests, AllowOfflineTxForUnknownId).
public struct OfflinePolicy: Sendable, Equatable {
    public var authorizeFromLocalList = true
    public var authorizeFromCache = true
    public var allowUnknownIds = false
    public init() {}
}

public struct AuthorizationSettings: Sendable, Equatable {
    public var mode: StationAuthorizationMode = .localList
    public var offline = OfflinePolicy()
    public var cards: [DemoCard] = []
    public init() {}
}

public struct SessionSettings: Sendable, Equatable {
    /// End the session when the EV unplugs (the socket side); otherwise it stays open until a card stops it.
    public var stopOnEVDisconnect = true
    /// Release the cable lock when the EV side unplugs.
    public var unlockOnEVDisconnect = true
    /// How long an authorization waits for a plug (and a plug for a card) before it lapses.
    public var connectionTimeout: EVSEDuration = .seconds(Int64(60))
    public var recovery: RecoveryPolicy = .resume
    /// Ended sessions are kept this many days (with their meter samples) for local history and
    /// disputes, then deleted — never one that still owes the CSMS a message. A station on a
    /// pole for ten years must not fill its flash with them.
    public var historyDays = 90
    public init() {}
}

/// The optional OCPP frame log: every frame both ways with its time, for field debugging
/// (`<data-dir>/ocpp-frames.log`, rotated; secrets are redacted).
public struct FrameLogSettings: Sendable, Equatable {
    public var maxFileBytes = 1 << 20
    public var fileCount = 5
    public init() {}
}

/// The `backend:` section: the CSMS this station connects to and how. The daemon's flags
/// override each field.
public struct BackendSettings: Sendable, Equatable {
    /// The line of the section, for messages.
    public var line: Int
    /// The CSMS's WebSocket URL (ws:// or wss://), without the identity.
    public var url: String
    /// The charge point identity at the CSMS (default: the station's `identity`).
    public var identity: String?
    public var ocppVersion = "1.6"
    public var securityProfile = 0
    /// A file holding the AuthorizationKey (hex) for profiles 1 and 2 (never the key itself).
    public var authorizationKeyFile: String?
    public var csmsRootCertificates: [String] = []
    public var clientCertificate: String?
    public var clientKey: String?
    public var frameLog: FrameLogSettings?
    /// Run for a CSMS's hard Reset after the sessions ended (e.g. `systemctl reboot`); without
    /// it a hard reset restarts the daemon.
    public var hardResetCommand: String?

    public init(line: Int, url: String) {
        self.line = line
        self.url = url
    }

    /// "auto": the WebSocket offers both, the CSMS picks, that version's adapter runs.
    public static let ocppVersions = ["1.6", "2.0.1", "auto"]
}

/// The station configuration file (`/etc/swiftevse/station.yaml`): who the station is and how it
/// behaves. The board file says what hardware it has.
public struct StationConfig: Sendable, Equatable {
    public static let defaultDataDirectory = "/var/lib/swiftevse"
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public var file: String?
    public var identity = "swiftevse"
    public var serialNumber = "0000"
    public var dataDirectory = StationConfig.defaultDataDirectory
    public var authorization = AuthorizationSettings()
    public var sessions = SessionSettings()
    public var language = "en"
    public var logLevel = "info"
    public var backend: BackendSettings?
    public var firmware = FirmwareSettings()
    public var energy = EnergySettings()

    public init() {}

    public static func load(path: String) throws(ConfigFileError) -> StationConfig {
        let text = try TextFile.read(path, kind: "station file")
        return try parse(text, file: path)
    }

    /// Parses the YAML subset of board files. Errors read `FILE:LINE: field.path: what is wrong`.
    public static func parse(_ text: String, file: String) throws(ConfigFileError) -> StationConfig {
        let root = try ConfigParser.parse(text, file: file)
        let r = ConfigReader(file: file)
        var config = StationConfig()
        config.file = file
        if root.isNull { return config }
        var top = try r.mapping(root, "")
        if let n = top.optional("identity") { config.identity = try r.identifier(n, "identity") }
        if let n = top.optional("serial") { config.serialNumber = try r.string(n, "serial") }
        if let n = top.optional("data_dir") { config.dataDirectory = try r.string(n, "data_dir") }
        if let n = top.optional("language") {
            let lang = try r.string(n, "language")
            guard ["en", "de", "fr", "nl"].contains(lang) else {
                throw r.error(n, "language", "expected one of en, de, fr, nl, found \(lang)")
            }
            config.language = lang
        }
        if let n = top.optional("log_level") {
            let level = try r.string(n, "log_level")
            guard StationConfig.logLevels.contains(level) else {
                throw r.error(n, "log_level", "expected one of \(StationConfig.logLevels.joined(separator: ", ")), found \(level)")
            }
            config.logLevel = level
        }
        if let n = top.optional("authorization") { config.authorization = try authorization(n, r) }
        if let n = top.optional("sessions") { config.sessions = try sessions(n, r) }
        if let n = top.optional("backend") { config.backend = try backend(n, r) }
        if let n = top.optional("firmware") { config.firmware = try firmware(n, r) }
        if let n = top.optional("energy") { config.energy = try EnergySettings.parse(n, r) }
        try top.finish()
        return config
    }

    static func authorization(_ node: ConfigNode, _ r: ConfigReader) throws(ConfigFileError) -> AuthorizationSettings {
        var a = AuthorizationSettings()
        var f = try r.mapping(node, "authorization")
        if let n = f.optional("mode") { a.mode = try r.oneOf(n, "authorization.mode", StationAuthorizationMode.self) }
        if let n = f.optional("offline") {
            var o = try r.mapping(n, "authorization.offline")
            if let v = o.optional("from_local_list") { a.offline.authorizeFromLocalList = try r.bool(v, o.sub("from_local_list")) }
            if let v = o.optional("from_cache") { a.offline.authorizeFromCache = try r.bool(v, o.sub("from_cache")) }
            if let v = o.optional("allow_unknown") { a.offline.allowUnknownIds = try r.bool(v, o.sub("allow_unknown")) }
            try o.finish()
        }
        if let n = f.optional("cards") {
            var seen: Set<String> = []
            for (i, item) in try r.list(n, "authorization.cards").enumerated() {
                let path = "authorization.cards[\(i)]"
                var c = try r.mapping(item, path)
                let idNode = try c.required("id", "the card's id token, e.g. 04A1B2C3")
                let id = try r.identifier(idNode, c.sub("id")).uppercased()
                guard id.count <= 36 else { throw r.error(idNode, c.sub("id"), "an id token has at most 36 characters, found \(id.count)") }
                guard seen.insert(id).inserted else { throw r.error(idNode, c.sub("id"), "card \(id) is listed twice") }
                var status = DemoCard.Status.accepted
                if let s = c.optional("status") { status = try r.oneOf(s, c.sub("status"), DemoCard.Status.self) }
                try c.finish()
                a.cards.append(DemoCard(idToken: id, status: status))
            }
        }
        try f.finish()
        return a
    }

    static func backend(_ node: ConfigNode, _ r: ConfigReader) throws(ConfigFileError) -> BackendSettings {
        var f = try r.mapping(node, "backend")
        let urlNode = try f.required("url", "the CSMS's WebSocket URL, e.g. wss://csms.example.net/ocpp")
        let url = try r.string(urlNode, f.sub("url"))
        guard url.hasPrefix("ws://") || url.hasPrefix("wss://"), url.split(separator: "/").count >= 2 else {
            throw r.error(urlNode, f.sub("url"), "expected a ws:// or wss:// URL, found \(url)")
        }
        var b = BackendSettings(line: node.line, url: url)
        if let n = f.optional("identity") { b.identity = try r.identifier(n, f.sub("identity")) }
        if let n = f.optional("ocpp_version") {
            let v = try r.string(n, f.sub("ocpp_version"))
            guard BackendSettings.ocppVersions.contains(v) else {
                throw r.error(n, f.sub("ocpp_version"), "expected one of \(BackendSettings.ocppVersions.joined(separator: ", ")), found \(v)")
            }
            b.ocppVersion = v
        }
        if let n = f.optional("security_profile") { b.securityProfile = try r.int(n, f.sub("security_profile"), in: 0...3, unit: "(profile)") }
        if let n = f.optional("authorization_key_file") { b.authorizationKeyFile = try r.string(n, f.sub("authorization_key_file")) }
        if let n = f.optional("csms_root_certificates") {
            b.csmsRootCertificates = try r.list(n, f.sub("csms_root_certificates")).enumerated().map { (i, item) throws(ConfigFileError) in
                try r.string(item, f.sub("csms_root_certificates") + "[\(i)]")
            }
        }
        let certificate = f.optional("client_certificate")
        let key = f.optional("client_key")
        if let certificate { b.clientCertificate = try r.string(certificate, f.sub("client_certificate")) }
        if let key { b.clientKey = try r.string(key, f.sub("client_key")) }
        if (certificate == nil) != (key == nil), let given = certificate ?? key {
            throw r.error(given, f.sub(certificate == nil ? "client_certificate" : "client_key"),
                          "client_certificate and client_key go together: the other one is missing")
        }
        if let n = f.optional("frame_log") {
            var log = FrameLogSettings()
            var l = try r.mapping(n, f.sub("frame_log"))
            var enabled = true
            if let v = l.optional("enabled") { enabled = try r.bool(v, l.sub("enabled")) }
            if let v = l.optional("max_file_kb") { log.maxFileBytes = try r.int(v, l.sub("max_file_kb"), in: 16...102_400, unit: "kB") * 1_024 }
            if let v = l.optional("files") { log.fileCount = try r.int(v, l.sub("files"), in: 1...50, unit: "files") }
            try l.finish()
            b.frameLog = enabled ? log : nil
        }
        if let n = f.optional("hard_reset_command") { b.hardResetCommand = try r.string(n, f.sub("hard_reset_command")) }
        try f.finish()
        return b
    }

    static func sessions(_ node: ConfigNode, _ r: ConfigReader) throws(ConfigFileError) -> SessionSettings {
        var s = SessionSettings()
        var f = try r.mapping(node, "sessions")
        if let n = f.optional("stop_on_ev_disconnect") { s.stopOnEVDisconnect = try r.bool(n, f.sub("stop_on_ev_disconnect")) }
        if let n = f.optional("unlock_on_ev_disconnect") { s.unlockOnEVDisconnect = try r.bool(n, f.sub("unlock_on_ev_disconnect")) }
        if let n = f.optional("connection_timeout_s") {
            s.connectionTimeout = .seconds(Int64(try r.int(n, f.sub("connection_timeout_s"), in: 5...3_600, unit: "s")))
        }
        if let n = f.optional("after_restart") { s.recovery = try r.oneOf(n, f.sub("after_restart"), RecoveryPolicy.self) }
        if let n = f.optional("history_days") { s.historyDays = try r.int(n, f.sub("history_days"), in: 1...3_650, unit: "days") }
        try f.finish()
        return s
    }
}
