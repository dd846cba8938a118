/// The settings the 2.0.1 adapter works by, read from the device model in one consistent
/// snapshot (`DeviceModel.variables`). Values are as stored and validated; a value that cannot
/// be read (never the case for a validated one) falls back to the catalogue's default.
public struct OCPP201Variables: Sendable, Equatable {
    // OCPPCommCtrlr
    public var heartbeatInterval: Int
    /// MessageAttempts[TransactionEvent]: how often a transaction message is tried.
    public var messageAttempts: Int
    /// MessageAttemptInterval[TransactionEvent], seconds.
    public var messageAttemptInterval: Int
    /// MessageTimeout[Default], seconds.
    public var messageTimeout: Int
    public var offlineThreshold: Int
    /// Configuration slots in the order they are tried.
    public var networkConfigurationPriority: [Int]
    public var networkProfileConnectionAttempts: Int
    public var resetRetries: Int
    public var unlockOnEVSideDisconnect: Bool
    public var webSocketPingInterval: Int
    public var retryBackOff: RetryBackOff

    // TxCtrlr
    public var txStartPoint: [String]
    public var txStopPoint: [String]
    public var evConnectionTimeOut: Int
    public var stopTxOnInvalidId: Bool
    public var stopTxOnEVSideDisconnect: Bool
    /// Wh still allowed after the CSMS refused the token of a running transaction.
    public var maxEnergyOnInvalidId: Int
    public var sampledData: SampledData
    public var alignedData: AlignedData

    // AuthCtrlr, AuthCacheCtrlr, LocalAuthListCtrlr
    public var authorizeRemoteStart: Bool
    public var localPreAuthorize: Bool
    public var localAuthorizeOffline: Bool
    public var offlineTxForUnknownIdEnabled: Bool
    public var authCache: AuthCache
    public var localAuthList: LocalAuthList

    // SecurityCtrlr, ClockCtrlr
    public var securityProfile: Int
    /// Always the catalogue's empty value: a password the CSMS sets goes to the station's keeper
    /// (`DeviceModel.keepSecret`, the authorization key file), never into the device model.
    public var basicAuthPassword: String
    public var identity: String
    public var organizationName: String
    public var certSigningWaitMinimum: Int
    public var certSigningRepeatTimes: Int
    public var timeSource: [String]

    // Functions
    public var smartChargingEnabled: Bool
    /// SmartChargingCtrlr.LimitChangeSignificance (%): a change of the station's own limit
    /// smaller than this is not reported (NotifyChargingLimit).
    public var limitChangeSignificance: Double
    public var notifyChargingLimitWithSchedules: Bool
    public var reservationEnabled: Bool

    // DisplayMessageCtrlr, TariffCostCtrlr
    public var displayMessagesEnabled: Bool
    /// The station's language (an IETF tag) for its screens and messages.
    public var displayLanguage: String
    public var tariffCost: TariffCost

    public struct TariffCost: Sendable, Equatable {
        /// The driver's tariff (idTokenInfo.personalMessage) is shown.
        public var tariffEnabled: Bool
        /// Running and final costs (totalCost, CostUpdated) are shown.
        public var costEnabled: Bool
        public var currency: String
        /// Shown when the CSMS gave no tariff for the driver.
        public var tariffFallbackMessage: String
        /// Shown when a transaction ends without a total cost from the CSMS.
        public var totalCostFallbackMessage: String
    }

    public struct RetryBackOff: Sendable, Equatable {
        public var randomRange: Int
        public var repeatTimes: Int
        public var waitMinimum: Int
    }

    public struct SampledData: Sendable, Equatable {
        public var enabled: Bool
        public var txStartedMeasurands: [String]
        public var txUpdatedMeasurands: [String]
        public var txUpdatedInterval: Int
        public var txEndedMeasurands: [String]
        public var txEndedInterval: Int
    }

    public struct AlignedData: Sendable, Equatable {
        public var enabled: Bool
        /// Seconds between clock-aligned values; 0 sends none.
        public var interval: Int
        public var measurands: [String]
        public var sendDuringIdle: Bool
        public var txEndedMeasurands: [String]
        public var txEndedInterval: Int
    }

    public struct AuthCache: Sendable, Equatable {
        public var enabled: Bool
        /// Seconds a cached token stays valid.
        public var lifeTime: Int
        public var policy: String
        /// Tokens held (reported by the station).
        public var storage: Int
    }

    public struct LocalAuthList: Sendable, Equatable {
        public var enabled: Bool
        public var entries: Int
        public var itemsPerMessage: Int
        public var bytesPerMessage: Int
    }
}

extension DeviceModel {
    /// The adapter's settings, read under one lock: a SetVariables running at the same time is
    /// seen whole or not at all.
    public var variables: OCPP201Variables {
        state.locked { s in
            let read = SettingsReader(state: s)
            let comm = "OCPPCommCtrlr", tx = "TxCtrlr", sampled = "SampledDataCtrlr", aligned = "AlignedDataCtrlr"
            return OCPP201Variables(
                heartbeatInterval: read.int(comm, "HeartbeatInterval"),
                messageAttempts: read.int(comm, "MessageAttempts", "TransactionEvent"),
                messageAttemptInterval: read.int(comm, "MessageAttemptInterval", "TransactionEvent"),
                messageTimeout: read.int(comm, "MessageTimeout", "Default"),
                offlineThreshold: read.int(comm, "OfflineThreshold"),
                networkConfigurationPriority: read.list(comm, "NetworkConfigurationPriority").compactMap { Int($0) },
                networkProfileConnectionAttempts: read.int(comm, "NetworkProfileConnectionAttempts"),
                resetRetries: read.int(comm, "ResetRetries"),
                unlockOnEVSideDisconnect: read.bool(comm, "UnlockOnEVSideDisconnect"),
                webSocketPingInterval: read.int(comm, "WebSocketPingInterval"),
                retryBackOff: .init(randomRange: read.int(comm, "RetryBackOffRandomRange"),
                                    repeatTimes: read.int(comm, "RetryBackOffRepeatTimes"),
                                    waitMinimum: read.int(comm, "RetryBackOffWaitMinimum")),
                txStartPoint: read.list(tx, "TxStartPoint"),
                txStopPoint: read.list(tx, "TxStopPoint"),
                evConnectionTimeOut: read.int(tx, "EVConnectionTimeOut"),
                stopTxOnInvalidId: read.bool(tx, "StopTxOnInvalidId"),
                stopTxOnEVSideDisconnect: read.bool(tx, "StopTxOnEVSideDisconnect"),
                maxEnergyOnInvalidId: read.int(tx, "MaxEnergyOnInvalidId"),
                sampledData: .init(enabled: read.bool(sampled, "Enabled"),
                                   txStartedMeasurands: read.list(sampled, "TxStartedMeasurands"),
                                   txUpdatedMeasurands: read.list(sampled, "TxUpdatedMeasurands"),
                                   txUpdatedInterval: read.int(sampled, "TxUpdatedInterval"),
                                   txEndedMeasurands: read.list(sampled, "TxEndedMeasurands"),
                                   txEndedInterval: read.int(sampled, "TxEndedInterval")),
                alignedData: .init(enabled: read.bool(aligned, "Enabled"),
                                   interval: read.int(aligned, "Interval"),
                                   measurands: read.list(aligned, "Measurands"),
                                   sendDuringIdle: read.bool(aligned, "SendDuringIdle"),
                                   txEndedMeasurands: read.list(aligned, "TxEndedMeasurands"),
                                   txEndedInterval: read.int(aligned, "TxEndedInterval")),
                authorizeRemoteStart: read.bool("AuthCtrlr", "AuthorizeRemoteStart"),
                localPreAuthorize: read.bool("AuthCtrlr", "LocalPreAuthorize"),
                localAuthorizeOffline: read.bool("AuthCtrlr", "LocalAuthorizeOffline"),
                offlineTxForUnknownIdEnabled: read.bool("AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
                authCache: .init(enabled: read.bool("AuthCacheCtrlr", "Enabled"),
                                 lifeTime: read.int("AuthCacheCtrlr", "LifeTime"),
                                 policy: read.text("AuthCacheCtrlr", "Policy"),
                                 storage: read.int("AuthCacheCtrlr", "Storage")),
                localAuthList: .init(enabled: read.bool("LocalAuthListCtrlr", "Enabled"),
                                     entries: read.int("LocalAuthListCtrlr", "Entries"),
                                     itemsPerMessage: read.int("LocalAuthListCtrlr", "ItemsPerMessage"),
                                     bytesPerMessage: read.int("LocalAuthListCtrlr", "BytesPerMessage")),
                securityProfile: read.int("SecurityCtrlr", "SecurityProfile"),
                basicAuthPassword: read.text("SecurityCtrlr", "BasicAuthPassword"),
                identity: read.text("SecurityCtrlr", "Identity"),
                organizationName: read.text("SecurityCtrlr", "OrganizationName"),
                certSigningWaitMinimum: read.int("SecurityCtrlr", "CertSigningWaitMinimum"),
                certSigningRepeatTimes: read.int("SecurityCtrlr", "CertSigningRepeatTimes"),
                timeSource: read.list("ClockCtrlr", "TimeSource"),
                smartChargingEnabled: read.bool("SmartChargingCtrlr", "Enabled"),
                limitChangeSignificance: read.decimal("SmartChargingCtrlr", "LimitChangeSignificance"),
                notifyChargingLimitWithSchedules: read.bool("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"),
                reservationEnabled: read.bool("ReservationCtrlr", "Enabled"),
                displayMessagesEnabled: read.bool("DisplayMessageCtrlr", "Enabled"),
                displayLanguage: read.text("DisplayMessageCtrlr", "Language"),
                tariffCost: .init(tariffEnabled: read.bool("TariffCostCtrlr", "Enabled", "Tariff"),
                                  costEnabled: read.bool("TariffCostCtrlr", "Enabled", "Cost"),
                                  currency: read.text("TariffCostCtrlr", "Currency"),
                                  tariffFallbackMessage: read.text("TariffCostCtrlr", "TariffFallbackMessage"),
                                  totalCostFallbackMessage: read.text("TariffCostCtrlr", "TotalCostFallbackMessage")))
        }
    }
}

/// Reads typed Actual values of station-wide controllers, falling back to the catalogue default.
private struct SettingsReader {
    let state: ModelState

    func text(_ component: String, _ variable: String, _ instance: String? = nil) -> String {
        let key = VariableKey(component: component, variable: variable, variableInstance: instance)
        return state.currentValue(key, .actual) ?? state.variable(key)?.definition.attribute(.actual)?.value ?? ""
    }

    func int(_ component: String, _ variable: String, _ instance: String? = nil) -> Int {
        let key = VariableKey(component: component, variable: variable, variableInstance: instance)
        if let value = state.currentValue(key, .actual).flatMap({ Int($0) }) { return value }
        return state.variable(key)?.definition.attribute(.actual)?.value.flatMap { Int($0) } ?? 0
    }

    func decimal(_ component: String, _ variable: String, _ instance: String? = nil) -> Double {
        Double(text(component, variable, instance)) ?? 0
    }

    func bool(_ component: String, _ variable: String, _ instance: String? = nil) -> Bool {
        text(component, variable, instance) == "true"
    }

    func list(_ component: String, _ variable: String) -> [String] {
        text(component, variable).split(separator: ",").map(String.init)
    }
}

/// Keys the station and the adapter use by name.
extension VariableKey {
    public static let heartbeatInterval = VariableKey(component: "OCPPCommCtrlr", variable: "HeartbeatInterval")
    public static let networkConfigurationPriority = VariableKey(component: "OCPPCommCtrlr",
                                                                 variable: "NetworkConfigurationPriority")
    public static let activeNetworkProfile = VariableKey(component: "OCPPCommCtrlr", variable: "ActiveNetworkProfile")
    public static let securityProfile = VariableKey(component: "SecurityCtrlr", variable: "SecurityProfile")
    public static let basicAuthPassword = VariableKey(component: "SecurityCtrlr", variable: "BasicAuthPassword")
    public static let certificateEntries = VariableKey(component: "SecurityCtrlr", variable: "CertificateEntries")
    public static let dateTime = VariableKey(component: "ClockCtrlr", variable: "DateTime")
    public static let localListEntries = VariableKey(component: "LocalAuthListCtrlr", variable: "Entries")
    public static let authCacheStorage = VariableKey(component: "AuthCacheCtrlr", variable: "Storage")
    public static let chargingProfileEntries = VariableKey(component: "SmartChargingCtrlr", variable: "Entries",
                                                           variableInstance: "ChargingProfiles")
    public static let displayMessageCount = VariableKey(component: "DisplayMessageCtrlr", variable: "DisplayMessages")
    public static let displayLanguage = VariableKey(component: "DisplayMessageCtrlr", variable: "Language")
    public static let tariffFallbackMessage = VariableKey(component: "TariffCostCtrlr", variable: "TariffFallbackMessage")
    public static let stationAvailabilityState = VariableKey(component: "ChargingStation", variable: "AvailabilityState")
    public static let stationProblem = VariableKey(component: "ChargingStation", variable: "Problem")

    /// `EVSE[evseId].AvailabilityState`.
    public static func evseAvailabilityState(evseId: Int) -> VariableKey {
        VariableKey(component: "EVSE", evseId: evseId, variable: "AvailabilityState")
    }

    /// `EVSE[evseId].Power`: the power delivered now, in W.
    public static func evsePower(evseId: Int) -> VariableKey {
        VariableKey(component: "EVSE", evseId: evseId, variable: "Power")
    }

    /// `Connector[evseId/connectorId].AvailabilityState`.
    public static func connectorAvailabilityState(evseId: Int, connectorId: Int) -> VariableKey {
        VariableKey(component: "Connector", evseId: evseId, connectorId: connectorId, variable: "AvailabilityState")
    }
}
