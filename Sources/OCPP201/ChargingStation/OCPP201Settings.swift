import ChargingCore
import HAL
import StationPort

/// Every device-model setting the 2.0.1 adapter reads, with the spec's defaults (or the
/// station's, where the spec leaves it open). The device model maps its variables onto this
/// (`OCPP201ChargingStation.apply(_:)`); until it is wired in, the defaults govern.
public struct OCPP201Settings: Sendable, Hashable {
    /// OCPPCommCtrlr.HeartbeatInterval (s); the BootNotification answer sets it too.
    public var heartbeatInterval = 300
    /// OCPPCommCtrlr.MessageAttempts (TransactionEvent) — tries before a message is given up.
    public var messageAttempts = 3
    /// OCPPCommCtrlr.MessageAttemptInterval (TransactionEvent, s): the wait after failure n is
    /// n × this.
    public var messageAttemptInterval = 60
    /// OCPPCommCtrlr.MessageTimeout (Default, s): how long a CALL waits for its answer.
    public var messageTimeout = 30
    /// OCPPCommCtrlr.OfflineThreshold (s): offline longer than this, the reconnect reports every
    /// connector's status; a shorter gap sends only the changes queued meanwhile.
    public var offlineThreshold = 60
    /// TxCtrlr.TxStartPoint and TxStopPoint: see `TransactionPoint`.
    public var txStartPoint: Set<String> = ["PowerPathClosed"]
    public var txStopPoint: Set<String> = ["EVConnected", "Authorized"]
    /// TxCtrlr.EVConnectionTimeOut (s): authorized but not plugged in within this time lapses.
    public var evConnectionTimeOut = 60
    /// TxCtrlr.StopTxOnInvalidId: a transaction whose token the CSMS refuses is stopped (else
    /// it stays open without energy).
    public var stopTxOnInvalidId = true
    /// TxCtrlr.MaxEnergyOnInvalidId (Wh): what a transaction may still draw after its token was
    /// refused with StopTxOnInvalidId false; 0: nothing.
    public var maxEnergyOnInvalidId = 0
    /// SmartChargingCtrlr.LimitChangeSignificance (%): the station's own limit is reported again
    /// (NotifyChargingLimit) when it moved at least this much from the one last reported.
    public var limitChangeSignificancePercent = 10.0
    /// SmartChargingCtrlr.NotifyChargingLimitWithSchedules: the report carries the limit as a schedule.
    public var notifyChargingLimitWithSchedules = false
    /// TxCtrlr.StopTxOnEVSideDisconnect.
    public var stopTxOnEVSideDisconnect = true
    /// SampledDataCtrlr.TxUpdatedInterval (s, 0: none) and its measurands; TxEndedMeasurands.
    public var sampledDataTxUpdatedInterval = 0
    public var sampledDataTxUpdatedMeasurands: [String] = ["Energy.Active.Import.Register"]
    public var sampledDataTxEndedMeasurands: [String] = ["Energy.Active.Import.Register"]
    /// AlignedDataCtrlr.Interval (s, 0: none) and its measurands.
    public var alignedDataInterval = 0
    public var alignedDataMeasurands: [String] = ["Energy.Active.Import.Register"]
    /// AuthCtrlr.AuthorizeRemoteStart: a RequestStartTransaction's token is authorized first.
    public var authorizeRemoteStart = false
    /// AuthCtrlr.LocalPreAuthorize, LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled.
    public var localPreAuthorize = true
    public var localAuthorizeOffline = true
    public var offlineTxForUnknownIdEnabled = false
    /// AuthCacheCtrlr.Enabled, LocalAuthListCtrlr.Enabled and its limits.
    public var authCacheEnabled = true
    /// AuthCacheCtrlr.Policy: LRU, LFU or FIFO.
    public var authCachePolicy = "LRU"
    /// AuthCacheCtrlr.LifeTime (s): a cached token not used for this long is forgotten.
    public var authCacheLifeTime = 86_400
    public var localAuthListEnabled = true
    public var localAuthListItemsPerMessage = 500
    /// The most tokens the list holds: LocalAuthListCtrlr.Entries' maxLimit (its Actual is the
    /// count now), the DESIGN's 50,000.
    public var localAuthListEntries = 50_000
    /// ReservationCtrlr.Enabled.
    public var reservationEnabled = true
    /// OCPPCommCtrlr.UnlockOnEVSideDisconnect.
    public var unlockOnEVSideDisconnect = true
    /// DisplayMessageCtrlr.Enabled: SetDisplayMessage is Rejected while false.
    public var displayMessagesEnabled = true
    /// DisplayMessageCtrlr.Language (an IETF tag); nil: the station file's.
    public var displayLanguage: String?
    /// TariffCostCtrlr.Enabled[Tariff] and Enabled[Cost]: the driver's tariff, and the running and
    /// final costs, are shown.
    public var tariffEnabled = true
    public var costEnabled = true
    /// TariffCostCtrlr.Currency (ISO 4217): the decimals of the costs shown.
    public var currency = "EUR"
    /// TariffCostCtrlr.TariffFallbackMessage: shown while idle, and to a driver the CSMS gave no tariff.
    public var tariffFallbackMessage = ""
    /// TariffCostCtrlr.TotalCostFallbackMessage: shown with a transaction's end when the CSMS gave no total.
    public var totalCostFallbackMessage = ""

    public init() {}

    /// The TxStartPoint/TxStopPoint values, and which this station can tell apart.
    ///
    /// Start: the core starts a session when the EV is plugged in and the token authorized, and
    /// closes the power path at once, so PowerPathClosed begins the transaction with the
    /// session. EVConnected and Authorized begin it earlier, with the session's prelude (the EV
    /// or the token came first, `SessionPrelude`): the session then continues it (Updated) or,
    /// when none follows, the prelude's end ends it. EnergyTransfer alone begins it with the
    /// first energy (`TransactionEventService.energyTransferBegan`).
    ///
    /// Stop: EVConnected and PowerPathClosed end it when the cable leaves the EV
    /// (`sessionRules`); EnergyTransfer when the EV stops drawing (SuspendedEV, StoppedByEV);
    /// Authorized with the token's stop (the same card, a card of its group, RequestStop). Every
    /// transaction also ends with its session. ParkingBayOccupancy (no bay sensor) and
    /// DataSigned (no signing meter) are not supported.
    public enum TransactionPoint: String, Sendable, CaseIterable {
        case parkingBayOccupancy = "ParkingBayOccupancy"
        case evConnected = "EVConnected"
        case authorized = "Authorized"
        case powerPathClosed = "PowerPathClosed"
        case energyTransfer = "EnergyTransfer"
        case dataSigned = "DataSigned"

        public var isSupported: Bool { self != .parkingBayOccupancy && self != .dataSigned }
    }

    /// Why a TxStartPoint/TxStopPoint list cannot be used (nil: it can): unknown or
    /// unsupported values, named.
    public static func problem(withTransactionPoints values: Set<String>) -> String? {
        for v in values.sorted() {
            guard let point = TransactionPoint(rawValue: v) else { return "\(v) is not a TxStartPoint/TxStopPoint value" }
            guard point.isSupported else { return "\(v) is not supported by this station" }
        }
        return nil
    }

    /// The rules the core applies to every authorization.
    var authorizationRules: AuthorizationRules {
        AuthorizationRules(localPreAuthorize: localPreAuthorize, localAuthorizeOffline: localAuthorizeOffline,
                           allowOfflineTxForUnknownId: offlineTxForUnknownIdEnabled,
                           cacheEnabled: authCacheEnabled, localListEnabled: localAuthListEnabled,
                           cacheEviction: authCachePolicy, cacheLifeTimeSeconds: authCacheLifeTime > 0 ? authCacheLifeTime : nil)
    }

    /// The rules the core applies to every session. A TxStopPoint of EVConnected or
    /// PowerPathClosed (E06.FR.02, E06.FR.06: the power path needs the EV) ends the transaction
    /// when the cable leaves the EV, whatever StopTxOnEVSideDisconnect says; without them,
    /// StopTxOnEVSideDisconnect decides (false: the transaction goes on, suspended).
    var sessionRules: SessionRules {
        let endsWithTheEV = txStopPoint.contains(TransactionPoint.evConnected.rawValue)
            || txStopPoint.contains(TransactionPoint.powerPathClosed.rawValue)
        return SessionRules(connectionTimeout: .seconds(Int64(max(0, evConnectionTimeOut))),
                     stopOnEVSideDisconnect: stopTxOnEVSideDisconnect || endsWithTheEV,
                     unlockOnEVSideDisconnect: unlockOnEVSideDisconnect)
    }
}
