/// What the device model needs to know of the charger's hardware, taken from the board file:
/// its EVSEs (in our boards one connector each) and the measurands its meters provide.
public struct StationLayout: Sendable, Equatable {
    public var evses: [EVSELayout]
    /// OCPP measurand names the meters provide (`Energy.Active.Import.Register`, …): the values
    /// SampledDataCtrlr and AlignedDataCtrlr may be set to.
    public var measurands: [String]
    /// The display can show a QR code (a graphic display): DisplayMessageCtrlr.QRCodeDisplayCapable.
    public var displayCanShowQRCode: Bool
    /// The station file's language (en, de, fr, nl): DisplayMessageCtrlr.Language until a CSMS sets it.
    public var displayLanguage: String

    public init(evses: [EVSELayout], measurands: [String] = StationLayout.allMeasurands,
                displayCanShowQRCode: Bool = false, displayLanguage: String = "en") {
        self.evses = evses
        self.measurands = measurands
        self.displayCanShowQRCode = displayCanShowQRCode
        self.displayLanguage = DisplayMessageCapacity.languages.contains(displayLanguage) ? displayLanguage : "en"
    }

    /// Every measurand the firmware can turn a meter reading into.
    public static let allMeasurands = [
        "Current.Import", "Current.Offered", "Energy.Active.Export.Register", "Energy.Active.Import.Register",
        "Frequency", "Power.Active.Import", "Power.Factor", "Power.Offered", "Voltage",
    ]

    /// The most phases any EVSE supplies: the station's own SupplyPhases.
    var supplyPhases: Int { evses.map(\.phases).max() ?? 0 }
}

public struct EVSELayout: Sendable, Equatable {
    /// OCPP 2.0.1 EVSE id, from 1.
    public var evseId: Int
    /// Connector ids on this EVSE, from 1 (one per EVSE in our boards).
    public var connectorIds: [Int]
    /// The most this EVSE can deliver, in W: `EVSE.Power`'s MaxSet and maximum.
    public var maxPowerW: Double?
    /// OCPP ConnectorEnumType text (`cType2`, `sType2`, `cCCS2`, …); `nil` reports "Unknown".
    public var connectorType: String?
    /// 1 or 3.
    public var phases: Int
    /// The board gives this EVSE a 1/3-phase switch relay (`contactor.phase_switch`): a charging
    /// schedule's `numberPhases` 1 puts it on one phase during a transaction.
    public var canSwitchPhases: Bool

    public init(evseId: Int, connectorIds: [Int] = [1], maxPowerW: Double? = nil, connectorType: String? = nil,
                phases: Int = 3, canSwitchPhases: Bool = false) {
        self.evseId = evseId
        self.connectorIds = connectorIds
        self.maxPowerW = maxPowerW
        self.connectorType = connectorType
        self.phases = phases
        self.canSwitchPhases = canSwitchPhases
    }
}

/// Who the station is: reported in ChargingStation and SecurityCtrlr variables and refreshed at
/// every start (a firmware update changes `firmwareVersion`).
public struct StationIdentity: Sendable, Equatable {
    public var vendorName: String
    public var model: String
    public var serialNumber: String?
    public var firmwareVersion: String
    /// The charging station's identity towards the CSMS (the last part of its URL):
    /// SecurityCtrlr.Identity. `nil` leaves it empty.
    public var stationId: String?

    public init(vendorName: String, model: String, serialNumber: String? = nil, firmwareVersion: String,
                stationId: String? = nil) {
        self.vendorName = vendorName
        self.model = model
        self.serialNumber = serialNumber
        self.firmwareVersion = firmwareVersion
        self.stationId = stationId
    }
}
