/// Smart-charging profiles, in one model both OCPP versions map onto.
///
/// OCPP 1.6 `ChargingProfile` and OCPP 2.0.1 `ChargingProfileType` differ in names
/// (ChargePointMaxProfile vs ChargingStationMaxProfile, connector vs EVSE) but not in meaning;
/// the adapters translate names, the math lives here. Times are unix seconds (UTC): the core
/// never reads a clock, the caller passes "now".

public enum ChargingProfilePurpose: String, Hashable, Sendable, CaseIterable {
    /// Caps the whole station (OCPP 1.6: ChargePointMaxProfile). Installed on connector 0.
    case chargingStationMaxProfile
    /// Applies to new and running transactions that have no TxProfile.
    case txDefaultProfile
    /// Applies to one running transaction; overrides TxDefault for it.
    case txProfile

    /// The OCPP 1.6 name of the station maximum.
    public static let chargePointMaxProfile = ChargingProfilePurpose.chargingStationMaxProfile
}

public enum ChargingRecurrency: String, Hashable, Sendable, CaseIterable {
    case daily, weekly

    public var periodSeconds: Int64 { self == .daily ? 86_400 : 604_800 }
}

public enum ChargingProfileKind: Hashable, Sendable {
    /// Periods count from `startSchedule`.
    case absolute
    /// Periods count from the most recent daily/weekly repetition of `startSchedule`.
    case recurring(ChargingRecurrency)
    /// Periods count from the start of the transaction.
    case relative
}

public struct ChargingSchedulePeriod: Hashable, Sendable {
    /// Seconds from the start of the schedule.
    public var startPeriod: Int
    /// In the schedule's unit: A per phase, or W in total.
    public var limit: Double
    /// 1...3; `nil` means 3 (the OCPP default).
    public var numberPhases: Int?

    public init(startPeriod: Int, limit: Double, numberPhases: Int? = nil) {
        self.startPeriod = startPeriod
        self.limit = limit
        self.numberPhases = numberPhases
    }
}

public struct ChargingSchedule: Hashable, Sendable {
    public var unit: ChargingRateUnit
    /// Sorted by `startPeriod`, the first at 0.
    public var periods: [ChargingSchedulePeriod]
    /// Seconds; `nil` = the last period lasts until the profile ends (or the next recurrence).
    public var duration: Int?
    /// Unix seconds. Required for absolute and recurring profiles; absent for relative ones.
    /// (An adapter receiving an absolute profile without it fills in the time of receipt.)
    public var startSchedule: Int64?
    public var minChargingRate: Double?

    public init(unit: ChargingRateUnit, periods: [ChargingSchedulePeriod], duration: Int? = nil,
                startSchedule: Int64? = nil, minChargingRate: Double? = nil) {
        self.unit = unit
        self.periods = periods
        self.duration = duration
        self.startSchedule = startSchedule
        self.minChargingRate = minChargingRate
    }
}

public struct ChargingProfile: Hashable, Sendable {
    public var id: Int
    public var stackLevel: Int
    public var purpose: ChargingProfilePurpose
    public var kind: ChargingProfileKind
    /// Unix seconds; `nil` = from forever / until forever.
    public var validFrom: Int64?
    public var validTo: Int64?
    /// TxProfile only: the transaction it belongs to (`nil` = the connector's current one).
    public var transactionId: String?
    public var schedule: ChargingSchedule

    public init(id: Int, stackLevel: Int, purpose: ChargingProfilePurpose, kind: ChargingProfileKind,
                validFrom: Int64? = nil, validTo: Int64? = nil, transactionId: String? = nil,
                schedule: ChargingSchedule) {
        self.id = id
        self.stackLevel = stackLevel
        self.purpose = purpose
        self.kind = kind
        self.validFrom = validFrom
        self.validTo = validTo
        self.transactionId = transactionId
        self.schedule = schedule
    }
}

/// What is wrong with a profile; the adapters map it to a rejection.
public enum ChargingProfileError: Error, Hashable, Sendable, CustomStringConvertible {
    case noPeriods(profileId: Int)
    case firstPeriodNotAtZero(profileId: Int, startPeriod: Int)
    case periodsNotAscending(profileId: Int, index: Int)
    case invalidLimit(profileId: Int, index: Int, limit: Double)
    case invalidNumberPhases(profileId: Int, index: Int, numberPhases: Int)
    case negativeStackLevel(profileId: Int, stackLevel: Int)
    case invalidDuration(profileId: Int, duration: Int)
    case missingStartSchedule(profileId: Int)
    case startScheduleOnRelative(profileId: Int)
    case validityEmpty(profileId: Int, validFrom: Int64, validTo: Int64)
    case stationMaxOnConnector(profileId: Int, connectorId: Int)
    case txProfileOnStation(profileId: Int)
    case transactionIdOutsideTxProfile(profileId: Int)
    case negativeConnectorId(profileId: Int, connectorId: Int)
    /// A time outside 1970...9999, or a period/duration beyond what OCPP's 32-bit integers carry.
    case outOfRange(profileId: Int, field: String)

    public var description: String {
        switch self {
        case let .noPeriods(id): return "charging profile \(id): the schedule has no periods"
        case let .firstPeriodNotAtZero(id, s): return "charging profile \(id): the first period starts at \(s) s, not 0"
        case let .periodsNotAscending(id, i): return "charging profile \(id): period \(i) does not start after period \(i - 1)"
        case let .invalidLimit(id, i, l): return "charging profile \(id): period \(i) has an invalid limit \(l)"
        case let .invalidNumberPhases(id, i, n): return "charging profile \(id): period \(i) has numberPhases \(n), not 1...3"
        case let .negativeStackLevel(id, s): return "charging profile \(id): stackLevel \(s) is negative"
        case let .invalidDuration(id, d): return "charging profile \(id): duration \(d) s is not positive"
        case let .missingStartSchedule(id): return "charging profile \(id): absolute and recurring schedules need startSchedule"
        case let .startScheduleOnRelative(id): return "charging profile \(id): a relative schedule must not have startSchedule"
        case let .validityEmpty(id, f, t): return "charging profile \(id): validFrom \(f) is not before validTo \(t)"
        case let .stationMaxOnConnector(id, c): return "charging profile \(id): a station maximum profile belongs on connector 0, not \(c)"
        case let .txProfileOnStation(id): return "charging profile \(id): a TxProfile needs a connector, not 0"
        case let .transactionIdOutsideTxProfile(id): return "charging profile \(id): only a TxProfile may name a transaction"
        case let .negativeConnectorId(id, c): return "charging profile \(id): connector id \(c) is negative"
        case let .outOfRange(id, field): return "charging profile \(id): \(field) is out of range"
        }
    }
}

extension ChargingProfile {
    /// 1970-01-01 ... 9999-12-31 23:59:59 UTC: keeps all schedule arithmetic far from overflow.
    public static let validUnixTimes: ClosedRange<Int64> = 0...253_402_300_799

    /// Checks what both OCPP versions require of a profile installed on `connectorId` (0 = station).
    public func validate(connectorId: Int) throws(ChargingProfileError) {
        if connectorId < 0 { throw .negativeConnectorId(profileId: id, connectorId: connectorId) }
        if stackLevel < 0 { throw .negativeStackLevel(profileId: id, stackLevel: stackLevel) }
        if purpose == .chargingStationMaxProfile && connectorId != 0 {
            throw .stationMaxOnConnector(profileId: id, connectorId: connectorId)
        }
        if purpose == .txProfile && connectorId == 0 { throw .txProfileOnStation(profileId: id) }
        if purpose != .txProfile && transactionId != nil { throw .transactionIdOutsideTxProfile(profileId: id) }
        let times = ChargingProfile.validUnixTimes
        if let f = validFrom, !times.contains(f) { throw .outOfRange(profileId: id, field: "validFrom") }
        if let t = validTo, !times.contains(t) { throw .outOfRange(profileId: id, field: "validTo") }
        if let s = schedule.startSchedule, !times.contains(s) { throw .outOfRange(profileId: id, field: "startSchedule") }
        if let d = schedule.duration, d > Int(Int32.max) { throw .outOfRange(profileId: id, field: "duration") }
        if schedule.periods.contains(where: { $0.startPeriod > Int(Int32.max) }) { throw .outOfRange(profileId: id, field: "startPeriod") }
        if let f = validFrom, let t = validTo, f >= t { throw .validityEmpty(profileId: id, validFrom: f, validTo: t) }
        switch kind {
        case .absolute, .recurring:
            if schedule.startSchedule == nil { throw .missingStartSchedule(profileId: id) }
        case .relative:
            if schedule.startSchedule != nil { throw .startScheduleOnRelative(profileId: id) }
        }
        if let d = schedule.duration, d <= 0 { throw .invalidDuration(profileId: id, duration: d) }
        guard let first = schedule.periods.first else { throw .noPeriods(profileId: id) }
        if first.startPeriod != 0 { throw .firstPeriodNotAtZero(profileId: id, startPeriod: first.startPeriod) }
        for (i, p) in schedule.periods.enumerated() {
            if i > 0 && p.startPeriod <= schedule.periods[i - 1].startPeriod { throw .periodsNotAscending(profileId: id, index: i) }
            if !p.limit.isFinite || p.limit < 0 { throw .invalidLimit(profileId: id, index: i, limit: p.limit) }
            if let n = p.numberPhases, !(1...3).contains(n) { throw .invalidNumberPhases(profileId: id, index: i, numberPhases: n) }
        }
    }
}

/// A profile as installed on the station: on connector 0 (station-wide) or on one connector.
public struct InstalledChargingProfile: Hashable, Sendable {
    public private(set) var connectorId: Int
    public private(set) var profile: ChargingProfile

    /// Validates the profile for `connectorId`.
    public init(connectorId: Int, profile: ChargingProfile) throws(ChargingProfileError) {
        try profile.validate(connectorId: connectorId)
        self.connectorId = connectorId
        self.profile = profile
    }
}
