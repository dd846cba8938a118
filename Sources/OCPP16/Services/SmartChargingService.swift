import ChargingCore
import OCPP16Messages
import OCPPJSON
import StationPort
import Storage
import Locking
import Synchronization

/// The charging profiles the CSMS installed: translated into the core's model, checked against
/// the SmartCharging keys, persisted in the ConfigStore (one JSON blob) so they survive a
/// reboot, and handed to the station after every change (it feeds them to the allocator).
public final class SmartChargingService: Sendable {
    public static let storeKey = "ocpp16.chargingProfiles"
    public static let maxStackLevel = 10
    public static let maxPeriods = 24
    public static let maxProfiles = 20

    public enum Rejection: Error, Hashable, Sendable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self { case let .invalid(why): return why }
        }
    }

    private struct Entry: Sendable, Hashable {
        var connectorId: Int
        var message: OCPP16ChargingProfile
    }

    private let store: ConfigStore?
    private let station: any StationPort
    private let state: Mutex<(entries: [Entry], calculator: CompositeScheduleCalculator)>

    /// Loads what was stored (entries that no longer validate are dropped) and tells the station.
    public init(store: ConfigStore?, station: any StationPort, numberOfConnectors: Int) {
        self.store = store
        self.station = station
        var entries: [Entry] = []
        var calculator = CompositeScheduleCalculator()
        if let text = (try? store?.value(for: Self.storeKey)) ?? nil, case let .array(items)? = try? JSONParser.parse(text) {
            for item in items {
                guard let request = try? SetChargingProfileRequest(json: item),
                      let core = try? Self.coreProfile(request.csChargingProfiles, receivedAt: 0),
                      let installed = try? InstalledChargingProfile(connectorId: request.connectorId, profile: core)
                else { continue }
                calculator.install(installed)
                entries.removeAll { $0.message.chargingProfileId == core.id }
                entries.append(Entry(connectorId: request.connectorId, message: request.csChargingProfiles))
            }
        }
        state = Mutex((entries: entries, calculator: calculator))
        // The station starts with none: only stored ones need telling.
        if !entries.isEmpty { station.submit(.chargingProfiles(calculator)) }
    }

    public var calculator: CompositeScheduleCalculator { state.locked { $0.calculator } }
    public var installedCount: Int { state.locked { $0.entries.count } }

    /// Whether `profile` could be installed (limits and translation), without installing it: a
    /// RemoteStartTransaction checks its TxProfile before the station takes the start.
    public static func validate(_ profile: OCPP16ChargingProfile) throws(Rejection) {
        try checkLimits(profile)
        _ = try coreProfile(profile, receivedAt: 0)
    }

    private static func checkLimits(_ profile: OCPP16ChargingProfile) throws(Rejection) {
        if profile.stackLevel > Self.maxStackLevel {
            throw .invalid("stackLevel \(profile.stackLevel) is above ChargeProfileMaxStackLevel \(Self.maxStackLevel)")
        }
        if profile.chargingSchedule.chargingSchedulePeriod.count > Self.maxPeriods {
            throw .invalid("\(profile.chargingSchedule.chargingSchedulePeriod.count) periods, more than ChargingScheduleMaxPeriods \(Self.maxPeriods)")
        }
    }

    /// Validates and installs (replacing a profile with the same id, or the same connector,
    /// purpose and stack level). `receivedAt` (unix s) fills a missing absolute startSchedule.
    public func install(_ profile: OCPP16ChargingProfile, connectorId: Int, receivedAt: Int64) throws(Rejection) {
        try Self.checkLimits(profile)
        var message = profile
        if message.chargingProfileKind == .absolute, message.chargingSchedule.startSchedule == nil {
            message.chargingSchedule.startSchedule = OCPP16Timestamp.string(unixMs: UInt64(max(0, receivedAt)) * 1_000)
        }
        let core = try Self.coreProfile(message, receivedAt: receivedAt)
        let installed: InstalledChargingProfile
        do { installed = try InstalledChargingProfile(connectorId: connectorId, profile: core) } catch {
            throw .invalid(String(describing: error))
        }
        let result = state.locked { s -> Result<CompositeScheduleCalculator, Rejection> in
            var calculator = s.calculator
            let replaced = calculator.install(installed)
            var entries = s.entries.filter { !replaced.contains($0.message.chargingProfileId) }
            entries.append(Entry(connectorId: connectorId, message: message))
            if entries.count > Self.maxProfiles {
                return .failure(.invalid("more than MaxChargingProfilesInstalled \(Self.maxProfiles) profiles"))
            }
            s = (entries, calculator)
            return .success(calculator)
        }
        switch result {
        case let .failure(rejection): throw rejection
        case let .success(calculator): changed(calculator)
        }
    }

    /// ClearChargingProfile: removes what matches every given criterion; the ids removed.
    @discardableResult
    public func clear(id: Int? = nil, connectorId: Int? = nil, purpose: ChargingProfilePurpose? = nil, stackLevel: Int? = nil) -> [Int] {
        let (removed, calculator) = state.locked { s -> ([Int], CompositeScheduleCalculator) in
            var calculator = s.calculator
            let removed = calculator.clear(id: id, connectorId: connectorId, purpose: purpose, stackLevel: stackLevel)
            s.entries.removeAll { removed.contains($0.message.chargingProfileId) }
            s.calculator = calculator
            return (removed, calculator)
        }
        if !removed.isEmpty { changed(calculator) }
        return removed
    }

    /// A transaction ended: its TxProfiles go with it (OCPP 1.6 §3.13.4).
    public func transactionEnded(connectorId: Int) {
        clear(connectorId: connectorId, purpose: .txProfile)
    }

    private func changed(_ calculator: CompositeScheduleCalculator) {
        let entries = state.locked { $0.entries }
        let blob = JSONValue.array(entries.map {
            SetChargingProfileRequest(connectorId: $0.connectorId, csChargingProfiles: $0.message).toJSON()
        })
        try? store?.set(JSONWriter.writeString(blob), for: Self.storeKey)
        station.submit(.chargingProfiles(calculator))
    }

    // MARK: Translation

    static func coreProfile(_ p: OCPP16ChargingProfile, receivedAt: Int64) throws(Rejection) -> ChargingCore.ChargingProfile {
        let purpose: ChargingProfilePurpose
        switch p.chargingProfilePurpose {
        case .chargePointMaxProfile: purpose = .chargingStationMaxProfile
        case .txDefaultProfile: purpose = .txDefaultProfile
        case .txProfile: purpose = .txProfile
        }
        let kind: ChargingProfileKind
        switch p.chargingProfileKind {
        case .absolute: kind = .absolute
        case .relative: kind = .relative
        case .recurring:
            guard let r = p.recurrencyKind else { throw .invalid("a Recurring profile needs recurrencyKind") }
            kind = .recurring(r == .daily ? .daily : .weekly)
        }
        func time(_ text: String?, _ field: String) throws(Rejection) -> Int64? {
            guard let text else { return nil }
            guard let t = OCPP16Timestamp.unixSeconds(text) else { throw .invalid("\(field) \(text) is not an RFC 3339 time") }
            return t
        }
        let s = p.chargingSchedule
        var start = try time(s.startSchedule, "startSchedule")
        if kind == .absolute, start == nil { start = receivedAt }
        let schedule = ChargingCore.ChargingSchedule(
            unit: s.chargingRateUnit == .a ? .amps : .watts,
            periods: s.chargingSchedulePeriod.map {
                ChargingCore.ChargingSchedulePeriod(startPeriod: $0.startPeriod, limit: $0.limit, numberPhases: $0.numberPhases)
            },
            duration: s.duration, startSchedule: start, minChargingRate: s.minChargingRate)
        // A TxProfile applies to the connector's running transaction (checked by the caller)
        // and is removed when it ends, so it is installed unbound.
        return ChargingCore.ChargingProfile(
            id: p.chargingProfileId, stackLevel: p.stackLevel, purpose: purpose, kind: kind,
            validFrom: try time(p.validFrom, "validFrom"), validTo: try time(p.validTo, "validTo"),
            transactionId: nil, schedule: schedule)
    }
}

extension OCPP16Timestamp {
    /// Unix seconds of an RFC 3339 time (`2026-01-01T10:00:00Z`, fractions and offsets allowed):
    /// the same parser as the reservation and local-list expiry dates, truncated to seconds.
    public static func unixSeconds(_ text: String) -> Int64? {
        unixMs(text).map { Int64($0 / 1_000) }
    }
}

extension SmartChargingService {
    /// SmartCharging.
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(SetChargingProfileRequest.self) { chargePoint, request in await chargePoint.setChargingProfile(request) }
        registry.register(ClearChargingProfileRequest.self) { chargePoint, request in chargePoint.clearChargingProfile(request) }
        registry.register(GetCompositeScheduleRequest.self) { chargePoint, request in await chargePoint.getCompositeSchedule(request) }
    }
}
