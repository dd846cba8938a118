import Station

// evsed's command line, parsed by hand: swift-argument-parser pulled FoundationEssentials and more
// of the regex runtime into the firmware for fifteen options: 5.6 MB of the 23.1 MB stripped binary,
// measured with scripts/build-firmware.
// evsectl and evse-sim, which are not the firmware, keep the argument parser.

/// A command line evsed cannot run with: printed with a pointer to `--help`, exit status 64.
enum UsageError: Error, CustomStringConvertible {
    case helpRequested
    case unknownOption(String)
    case missingValue(String)
    case notANumber(option: String, value: String)
    case unexpectedArgument(String)
    case missingOption(String)
    case invalid(String)

    var description: String {
        switch self {
        case .helpRequested: "help requested"
        case .unknownOption(let o): "unknown option '\(o)'"
        case .missingValue(let o): "missing value for '\(o)'"
        case .notANumber(let o, let v): "the value '\(v)' of '\(o)' is not a whole number"
        case .unexpectedArgument(let a): "unexpected argument '\(a)'"
        case .missingOption(let o): "missing '\(o)'"
        case .invalid(let why): why
        }
    }
}

/// How the daemon ends when it cannot go on (sysexits.h): systemd's Restart=on-failure would
/// only loop on a broken file, so a configuration error has its own status.
struct ExitStatus: Error {
    var code: Int32
    static let failure = ExitStatus(code: 1)
    static let configuration = ExitStatus(code: 78)  // EX_CONFIG
}

extension Evsed {
    /// One option: its name, its value's name (nil: a flag), its help, and where its value goes.
    struct Option: Sendable {
        var name: String
        var value: String?
        var help: String
        var apply: @Sendable (inout Evsed, String) throws -> Void
    }

    static let options: [Option] = [
        Option(name: "--board", value: "path", help: "The board description (e.g. /etc/swiftevse/board.yaml). Required.") { $0.board = $1 },
        Option(name: "--config", value: "path", help: "The station configuration (identity, authorization, demo cards).") { $0.config = $1 },
        Option(name: "--data-dir", value: "path", help: "Where the database lives (overrides data_dir of the station file).") { $0.dataDir = $1 },
        Option(name: "--log-level", value: "level",
               help: "trace, debug, info, notice, warning, error or critical (overrides log_level).") { $0.logLevel = $1 },
        Option(name: "--loop-interval-ms", value: "ms",
               help: "Milliseconds between two samples of an input that is settling (pilot debounce, contactor feedback, a card being read); on a board whose inputs cannot signal changes and that gives no pilot.sample_rate_hz, also between two samples while an EV is plugged in (default 1).") {
            $0.loopIntervalMs = try Evsed.number($1, of: "--loop-interval-ms")
        },
        Option(name: "--idle-interval-ms", value: "ms", help: "On a board whose inputs cannot signal changes and that gives no pilot.sample_rate_hz: milliseconds between two samples while nothing is plugged in (default 50). Inputs that signal changes (the simulator, GPIO edges) are not sampled periodically.") {
            $0.idleIntervalMs = try Evsed.number($1, of: "--idle-interval-ms")
        },
        Option(name: "--csms", value: "url",
               help: "The CSMS's WebSocket URL (ws://host:port/path; overrides backend.url); without one the charger runs standalone.") { $0.csms = $1 },
        Option(name: "--identity", value: "id",
               help: "The charge point identity the CSMS knows this charger by (default: backend.identity, then the station file's identity).") {
            $0.identity = $1
        },
        Option(name: "--ocpp-version", value: "version",
               help: "The OCPP version to speak with the CSMS: \(BackendSettings.ocppVersions.joined(separator: ", ")) (overrides backend.ocpp_version).") {
            $0.ocppVersion = $1
        },
        Option(name: "--security-profile", value: "0-3",
               help: "OCPP security profile to start with (overrides backend.security_profile); the CSMS may raise it.") {
            $0.securityProfile = try Evsed.number($1, of: "--security-profile")
        },
        Option(name: "--authorization-key-file", value: "path",
               help: "A file holding the AuthorizationKey (hex, 16–20 bytes) for profiles 1 and 2.") { $0.authorizationKeyFile = $1 },
        Option(name: "--csms-root-certificate", value: "path",
               help: "A PEM file of CSMS root certificate(s), installed as CentralSystemRootCertificate (repeatable; replaces backend.csms_root_certificates).") {
            $0.csmsRootCertificates.append($1)
        },
        Option(name: "--client-certificate", value: "path",
               help: "PEM client certificate chain for security profile 3 (until the CSMS signs one).") { $0.clientCertificate = $1 },
        Option(name: "--client-key", value: "path", help: "PEM private key of --client-certificate.") { $0.clientKey = $1 },
        Option(name: "--frame-log", value: nil,
               help: "Log every OCPP frame to <data-dir>/ocpp-frames.log (rotated, secrets redacted).") { e, _ in e.frameLog = true },
    ]

    /// `--name value`, `--name=value` and flags; `-h`/`--help` asks for the usage.
    init(arguments: [String]) throws(UsageError) {
        self.init()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" { throw .helpRequested }
            guard argument.hasPrefix("--") else { throw .unexpectedArgument(argument) }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = Self.options.first(where: { $0.name == name }) else { throw .unknownOption(name) }
            if option.value == nil {
                guard inlineValue == nil else { throw .invalid("'\(name)' takes no value") }
                try apply(option, "")
                continue
            }
            // "--board --config x" lacks the board's path; it does not mean a board named "--config".
            // A value that really starts with "--" can be given as --name=--value.
            if inlineValue == nil, rest.first?.hasPrefix("--") == true { throw .missingValue(name) }
            guard let value = inlineValue ?? rest.popFirst() else { throw .missingValue(name) }
            try apply(option, value)
        }
        guard !board.isEmpty else { throw .missingOption("--board <path>") }
        try validate()
    }

    private mutating func apply(_ option: Option, _ value: String) throws(UsageError) {
        do { try option.apply(&self, value) } catch let error as UsageError { throw error } catch { throw .invalid("\(error)") }
    }

    static func number(_ text: String, of option: String) throws(UsageError) -> Int {
        guard let n = Int(text) else { throw .notANumber(option: option, value: text) }
        return n
    }

    static var usage: String {
        var lines = ["evsed: the SwiftEVSE charging daemon: runs one charger from a board file and a station file.",
                     "", "USAGE: evsed --board <path> [options]", "", "OPTIONS:"]
        for option in options {
            lines.append("  \(option.name)\(option.value.map { " <\($0)>" } ?? "")")
            lines.append("        \(option.help)")
        }
        lines.append("  -h, --help")
        lines.append("        Show this help.")
        return lines.joined(separator: "\n")
    }
}
