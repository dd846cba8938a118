import BoardDescription
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
    public init() {}
}

/// The `backend:` section: parsed and kept for the OCPP issues, ignored by the standalone daemon.
public struct BackendSettings: Sendable, Equatable {
    public var line: Int
    public var keys: [String]
}

/// The station configuration file (`/etc/swiftevse/station.yaml`): who the station is and how it
/// behaves. The board file says what hardware it has.
public struct StationConfig: Sendable, Equatable {
    public static let defaultDataDirectory = "/var/lib/swiftevse"

    public var file: String?
    public var identity = "swiftevse"
    public var serialNumber = "0000"
    public var dataDirectory = StationConfig.defaultDataDirectory
    public var authorization = AuthorizationSettings()
    public var sessions = SessionSettings()
    public var language = "en"
    public var logLevel = "info"
    public var backend: BackendSettings?

    public init() {}

    public static func load(path: String) throws(BoardFileError) -> StationConfig {
        let text = try StationConfigFile.read(path)
        return try parse(text, file: path)
    }

    /// Parses the YAML subset of board files. Errors read `FILE:LINE: field.path: what is wrong`.
    public static func parse(_ text: String, file: String) throws(BoardFileError) -> StationConfig {
        let root = try ConfigParser.parse(text, file: file)
        let r = StationConfigReader(file: file)
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
            guard StationConfigReader.logLevels.contains(level) else {
                throw r.error(n, "log_level", "expected one of \(StationConfigReader.logLevels.joined(separator: ", ")), found \(level)")
            }
            config.logLevel = level
        }
        if let n = top.optional("authorization") { config.authorization = try authorization(n, r) }
        if let n = top.optional("sessions") { config.sessions = try sessions(n, r) }
        if let n = top.optional("backend") {
            let fields = try r.mapping(n, "backend")
            config.backend = BackendSettings(line: n.line, keys: fields.entries.map(\.key))
        }
        try top.finish()
        return config
    }

    static func authorization(_ node: ConfigNode, _ r: StationConfigReader) throws(BoardFileError) -> AuthorizationSettings {
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

    static func sessions(_ node: ConfigNode, _ r: StationConfigReader) throws(BoardFileError) -> SessionSettings {
        var s = SessionSettings()
        var f = try r.mapping(node, "sessions")
        if let n = f.optional("stop_on_ev_disconnect") { s.stopOnEVDisconnect = try r.bool(n, f.sub("stop_on_ev_disconnect")) }
        if let n = f.optional("unlock_on_ev_disconnect") { s.unlockOnEVDisconnect = try r.bool(n, f.sub("unlock_on_ev_disconnect")) }
        if let n = f.optional("connection_timeout_s") {
            s.connectionTimeout = .seconds(Int64(try r.int(n, f.sub("connection_timeout_s"), in: 5...3_600, unit: "s")))
        }
        if let n = f.optional("after_restart") { s.recovery = try r.oneOf(n, f.sub("after_restart"), RecoveryPolicy.self) }
        try f.finish()
        return s
    }
}
