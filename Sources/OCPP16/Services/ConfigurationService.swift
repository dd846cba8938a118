import ChargingCore
import OCPP16Messages
import StationPort
import Storage

/// The OCPP 1.6 configuration keys this charge point supports (every key of the spec and its
/// errata for the profiles it implements, and the security whitepaper's read-only ones): their
/// type, access, validation and persistence (in the station's ConfigStore, under `ocpp16.`).
/// GetConfiguration and ChangeConfiguration read and write through here. SecurityProfile,
/// AuthorizationKey and CpoName live in the SecurityService.
///
/// Optional keys for hardware or behaviour this charger does not have are left out, so the CSMS
/// gets NotSupported for them: BlinkRepeat and LightIntensity (no charge-point lighting the
/// firmware dims or blinks).
public struct ConfigurationService: Sendable {
    public enum Kind: Sendable, Hashable {
        case bool
        case integer(min: Int, max: Int)
        /// A comma-separated list of measurands, at most `maxItems` long.
        case measurandList(maxItems: Int)
        /// ConnectorPhaseRotation: `connectorId.rotation` items, e.g. `0.RST,1.RST,2.RTS`.
        case phaseRotationList(maxConnectorId: Int)
        case text
        /// California Pricing: DefaultPrice {priceText, priceTextOffline?, chargingPrice?}.
        case defaultPrice
        /// California Pricing: DefaultPriceText,<language> {priceText, priceTextOffline?}.
        case defaultPriceText
        /// A UTC offset `±HH:MM`, or empty.
        case utcOffset
        /// An RFC 3339 date-time, or empty.
        case dateTime
        /// One of the languages the station has screens in (an IETF tag), or empty: the
        /// station file's language.
        case language
    }

    public struct Key: Sendable, Hashable {
        public var name: String
        public var kind: Kind
        public var readOnly: Bool
        public var defaultValue: String
        /// The change only takes effect after a restart (answered RebootRequired). No key this
        /// charge point supports needs one today: each applies to the next decision it governs.
        public var needsReboot: Bool
    }

    public enum ChangeResult: Sendable, Hashable {
        case accepted, rebootRequired, rejected(String), notSupported
    }

    public static let storePrefix = "ocpp16."
    public static let measurandListMax = 8
    /// The security whitepaper's limits, as the PKI code enforces them.
    public static let certificateSignedMaxChainSize = 10_000
    public static let certificateStoreMaxLength = 20
    static let phaseRotations: Set<String> = ["NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"]

    public let keys: [Key]
    /// Each key's place in `keys`, for GetConfiguration's lookups by name (a scan of the 60
    /// names cost a one-key call about 3 % of its instructions).
    private let positions: [String: Int]
    private let store: ConfigStore?
    private var values: [String: String]

    /// `numberOfConnectors` fills the read-only key of that name; stored values override defaults.
    public init(store: ConfigStore?, numberOfConnectors: Int) {
        self.store = store
        let m = Self.measurandListMax
        keys = [
            Key(name: "AdditionalRootCertificateCheck", kind: .bool, readOnly: true, defaultValue: "false", needsReboot: false),
            Key(name: "AllowOfflineTxForUnknownId", kind: .bool, readOnly: false, defaultValue: "false", needsReboot: false),
            Key(name: "AuthorizationCacheEnabled", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "AuthorizeRemoteTxRequests", kind: .bool, readOnly: false, defaultValue: "false", needsReboot: false),
            Key(name: "ChargeProfileMaxStackLevel", kind: .integer(min: 0, max: 1_000), readOnly: true,
                defaultValue: "\(SmartChargingService.maxStackLevel)", needsReboot: false),
            Key(name: "ChargingScheduleAllowedChargingRateUnit", kind: .text, readOnly: true, defaultValue: "Current,Power", needsReboot: false),
            Key(name: "ChargingScheduleMaxPeriods", kind: .integer(min: 0, max: 1_000), readOnly: true,
                defaultValue: "\(SmartChargingService.maxPeriods)", needsReboot: false),
            Key(name: "CertificateSignedMaxChainSize", kind: .integer(min: 0, max: 100_000), readOnly: true,
                defaultValue: "\(Self.certificateSignedMaxChainSize)", needsReboot: false),
            Key(name: "CertificateStoreMaxLength", kind: .integer(min: 0, max: 1_000), readOnly: true,
                defaultValue: "\(Self.certificateStoreMaxLength)", needsReboot: false),
            Key(name: "ClockAlignedDataInterval", kind: .integer(min: 0, max: 86_400), readOnly: false, defaultValue: "0", needsReboot: false),
            Key(name: "ConnectionTimeOut", kind: .integer(min: 1, max: 3_600), readOnly: false, defaultValue: "60", needsReboot: false),
            Key(name: "ConnectorPhaseRotation", kind: .phaseRotationList(maxConnectorId: numberOfConnectors), readOnly: false,
                defaultValue: "0.RST", needsReboot: false),
            Key(name: "ConnectorPhaseRotationMaxLength", kind: .integer(min: 0, max: 101), readOnly: true,
                defaultValue: "\(numberOfConnectors + 1)", needsReboot: false),
            Key(name: "ConnectorSwitch3to1PhaseSupported", kind: .bool, readOnly: true, defaultValue: "false", needsReboot: false),
            Key(name: "GetConfigurationMaxKeys", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "50", needsReboot: false),
            Key(name: "HeartbeatInterval", kind: .integer(min: 0, max: 86_400), readOnly: false, defaultValue: "300", needsReboot: false),
            Key(name: "LocalAuthListEnabled", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "LocalAuthListMaxLength", kind: .integer(min: 0, max: 1_000_000), readOnly: true, defaultValue: "50000", needsReboot: false),
            Key(name: "LocalAuthorizeOffline", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "LocalPreAuthorize", kind: .bool, readOnly: false, defaultValue: "false", needsReboot: false),
            Key(name: "MaxChargingProfilesInstalled", kind: .integer(min: 0, max: 1_000), readOnly: true,
                defaultValue: "\(SmartChargingService.maxProfiles)", needsReboot: false),
            // Wh a session may still draw after the CSMS refused its token, when
            // StopTransactionOnInvalidId is false (then its energy is withheld); 0: none.
            Key(name: "MaxEnergyOnInvalidId", kind: .integer(min: 0, max: 1_000_000), readOnly: false, defaultValue: "0", needsReboot: false),
            Key(name: "MeterValuesAlignedData", kind: .measurandList(maxItems: m), readOnly: false,
                defaultValue: "Energy.Active.Import.Register", needsReboot: false),
            Key(name: "MeterValuesAlignedDataMaxLength", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "\(m)", needsReboot: false),
            // Current.Import per phase by default: the CSMS sees which phases a session uses
            // (1 or 3) and how energy management shares them.
            Key(name: "MeterValuesSampledData", kind: .measurandList(maxItems: m), readOnly: false,
                defaultValue: "Energy.Active.Import.Register,Current.Import", needsReboot: false),
            Key(name: "MeterValuesSampledDataMaxLength", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "\(m)", needsReboot: false),
            Key(name: "MeterValueSampleInterval", kind: .integer(min: 0, max: 86_400), readOnly: false, defaultValue: "60", needsReboot: false),
            Key(name: "MinimumStatusDuration", kind: .integer(min: 0, max: 3_600), readOnly: false, defaultValue: "0", needsReboot: false),
            Key(name: "NumberOfConnectors", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "\(numberOfConnectors)", needsReboot: false),
            Key(name: "ReserveConnectorZeroSupported", kind: .bool, readOnly: true, defaultValue: "false", needsReboot: false),
            Key(name: "ResetRetries", kind: .integer(min: 0, max: 10), readOnly: false, defaultValue: "1", needsReboot: false),
            Key(name: "SendLocalListMaxLength", kind: .integer(min: 0, max: 1_000_000), readOnly: true, defaultValue: "10000", needsReboot: false),
            Key(name: "StopTransactionOnEVSideDisconnect", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "StopTransactionOnInvalidId", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "StopTxnAlignedData", kind: .measurandList(maxItems: m), readOnly: false, defaultValue: "", needsReboot: false),
            Key(name: "StopTxnAlignedDataMaxLength", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "\(m)", needsReboot: false),
            Key(name: "StopTxnSampledData", kind: .measurandList(maxItems: m), readOnly: false, defaultValue: "", needsReboot: false),
            Key(name: "StopTxnSampledDataMaxLength", kind: .integer(min: 0, max: 100), readOnly: true, defaultValue: "\(m)", needsReboot: false),
            Key(name: "SupportedFeatureProfiles", kind: .text, readOnly: true, defaultValue: "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", needsReboot: false),
            // Errata v4.0: the schemes FirmwareManagement and GetLog locations may use.
            Key(name: "SupportedFileTransferProtocols", kind: .text, readOnly: true, defaultValue: "FTP,HTTP,HTTPS", needsReboot: false),
            Key(name: "SupportedFeatureProfilesMaxLength", kind: .integer(min: 0, max: 10), readOnly: true, defaultValue: "6", needsReboot: false),
            Key(name: "TransactionMessageAttempts", kind: .integer(min: 1, max: 100), readOnly: false, defaultValue: "3", needsReboot: false),
            Key(name: "TransactionMessageRetryInterval", kind: .integer(min: 0, max: 86_400), readOnly: false, defaultValue: "60", needsReboot: false),
            Key(name: "UnlockConnectorOnEVSideDisconnect", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "WebSocketPingInterval", kind: .integer(min: 0, max: 86_400), readOnly: false, defaultValue: "60", needsReboot: false),
        ] + Self.californiaPricingKeys
        positions = Dictionary(keys.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var values: [String: String] = [:]
        let stored = (try? store?.all()) ?? [:]
        for key in keys {
            if !key.readOnly, let value = stored[Self.storePrefix + key.name], Self.validate(value, key.kind) == nil {
                values[key.name] = value
            } else {
                values[key.name] = key.defaultValue
            }
        }
        self.values = values
    }

    public func key(_ name: String) -> Key? { positions[name].map { keys[$0] } }

    public func value(_ name: String) -> String? { values[name] }

    public func int(_ name: String) -> Int? { values[name].flatMap { Int($0) } }

    public func bool(_ name: String) -> Bool { values[name]?.lowercased() == "true" }

    public func measurands(_ name: String) -> [Measurand] {
        (values[name] ?? "").split(separator: ",").compactMap {
            Measurand(rawValue: $0.trimmingCharacters(in: " "))
        }
    }

    /// The authorization rules the keys say (the station applies them to its next decision).
    public var authorizationRules: AuthorizationRules {
        AuthorizationRules(localPreAuthorize: bool("LocalPreAuthorize"), localAuthorizeOffline: bool("LocalAuthorizeOffline"),
                           allowOfflineTxForUnknownId: bool("AllowOfflineTxForUnknownId"),
                           cacheEnabled: bool("AuthorizationCacheEnabled"), localListEnabled: bool("LocalAuthListEnabled"))
    }

    /// The session rules the keys say.
    public var sessionRules: SessionRules {
        SessionRules(connectionTimeout: .seconds(Int64(int("ConnectionTimeOut") ?? 60)),
                     stopOnEVSideDisconnect: bool("StopTransactionOnEVSideDisconnect"),
                     unlockOnEVSideDisconnect: bool("UnlockConnectorOnEVSideDisconnect"))
    }

    public static let authorizationRuleKeys: Set<String> = [
        "LocalPreAuthorize", "LocalAuthorizeOffline", "AllowOfflineTxForUnknownId", "AuthorizationCacheEnabled", "LocalAuthListEnabled",
    ]
    public static let sessionRuleKeys: Set<String> = [
        "ConnectionTimeOut", "StopTransactionOnEVSideDisconnect", "UnlockConnectorOnEVSideDisconnect",
    ]

    /// Validates, stores (on disk first) and applies a new value.
    public mutating func change(_ name: String, to value: String) -> ChangeResult {
        guard let key = key(name) else { return .notSupported }
        if key.readOnly { return .rejected("\(name) is read-only") }
        if let problem = Self.validate(value, key.kind) { return .rejected(problem) }
        let normalized: String
        if case .bool = key.kind { normalized = value.lowercased() } else { normalized = value }
        do {
            try store?.set(normalized, for: Self.storePrefix + name)
        } catch {
            return .rejected("cannot store \(name): \(error)")
        }
        values[name] = normalized
        return key.needsReboot ? .rebootRequired : .accepted
    }

    /// Nil when `value` fits `kind`, else what is wrong.
    static func validate(_ value: String, _ kind: Kind) -> String? {
        switch kind {
        case .bool:
            return ["true", "false"].contains(value.lowercased()) ? nil : "'\(value)' is not true or false"
        case let .integer(min, max):
            guard let n = Int(value) else { return "'\(value)' is not an integer" }
            return (min...max).contains(n) ? nil : "\(n) is outside \(min)…\(max)"
        case let .measurandList(maxItems):
            let items = value.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: " ") }
            if value.isEmpty { return nil }
            if items.count > maxItems { return "more than \(maxItems) measurands" }
            for item in items where Measurand(rawValue: item) == nil { return "'\(item)' is not a measurand" }
            return nil
        case let .phaseRotationList(maxConnectorId):
            var seen: Set<Int> = []
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.trimmingCharacters(in: " ").split(separator: ".", maxSplits: 1)
                guard parts.count == 2, let id = Int(parts[0]), (0...maxConnectorId).contains(id) else {
                    return "'\(item)' is not connectorId.rotation with a connector 0…\(maxConnectorId)"
                }
                guard phaseRotations.contains(String(parts[1])) else { return "'\(parts[1])' is not a phase rotation" }
                guard seen.insert(id).inserted else { return "connector \(id) is listed twice" }
            }
            return nil
        case .text:
            return value.utf8.count <= 500 ? nil : "longer than 500 characters"
        case .defaultPrice:
            return CaliforniaPricingService.defaultPriceProblem(value)
        case .defaultPriceText:
            return CaliforniaPricingService.defaultPriceTextProblem(value)
        case .utcOffset:
            return value.isEmpty || CaliforniaPricingService.offsetMinutes(value) != nil ? nil : "'\(value)' is not a UTC offset ±HH:MM"
        case .dateTime:
            return value.isEmpty || OCPP16Timestamp.unixMs(value) != nil ? nil : "'\(value)' is not a date-time"
        case .language:
            let supported = CaliforniaPricingService.supportedLanguages
            return value.isEmpty || supported.contains(where: { DisplayLanguage(tag: value)?.rawValue == $0 }) ? nil
                : "'\(value)' is not one of \(supported.joined(separator: ", "))"
        }
    }
}

extension ConfigurationService {
    /// The keys of the OCA's "OCPP & California Pricing Requirements" note (prices and costs on
    /// the display, CaliforniaPricingService), each applied at once.
    static var californiaPricingKeys: [Key] {
        let languages = CaliforniaPricingService.supportedLanguages
        return [
            Key(name: "CustomDisplayCostAndPrice", kind: .bool, readOnly: false, defaultValue: "true", needsReboot: false),
            Key(name: "CustomIdleFeeAfterStop", kind: .bool, readOnly: true, defaultValue: "false", needsReboot: false),
            Key(name: "CustomMultiLanguageMessages", kind: .bool, readOnly: true, defaultValue: "true", needsReboot: false),
            Key(name: "DefaultPrice", kind: .defaultPrice, readOnly: false, defaultValue: "", needsReboot: false),
        ] + languages.map {
            Key(name: "DefaultPriceText,\($0)", kind: .defaultPriceText, readOnly: false, defaultValue: "", needsReboot: false)
        } + [
            Key(name: "Language", kind: .language, readOnly: false, defaultValue: "", needsReboot: false),
            Key(name: "NextTimeOffsetTransitionDateTime", kind: .dateTime, readOnly: false, defaultValue: "", needsReboot: false),
            Key(name: "NumberOfDecimalsForCostValues", kind: .integer(min: 0, max: 6), readOnly: false, defaultValue: "2", needsReboot: false),
            // The note's v2 name and the later one; the same list.
            Key(name: "SupportLanguages", kind: .text, readOnly: true, defaultValue: languages.joined(separator: ","), needsReboot: false),
            Key(name: "SupportedLanguages", kind: .text, readOnly: true, defaultValue: languages.joined(separator: ","), needsReboot: false),
            Key(name: "TimeOffset", kind: .utcOffset, readOnly: false, defaultValue: "+00:00", needsReboot: false),
            Key(name: "TimeOffsetNextTransition", kind: .utcOffset, readOnly: false, defaultValue: "", needsReboot: false),
        ]
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var s = self[...]
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String { self[...].trimmingCharacters(in: set) }
}

extension ConfigurationService {
    /// Core: the CSMS reads and changes the keys (a security key through SecurityConfiguration).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(ChangeConfigurationRequest.self) { chargePoint, request in chargePoint.changeConfiguration(request) }
        registry.registerImmediate(GetConfigurationRequest.self) { chargePoint, request in chargePoint.getConfiguration(request) }
    }
}
