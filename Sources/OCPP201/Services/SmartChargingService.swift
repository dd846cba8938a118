import ChargingCore
import Logging
import OCPP201Messages
import OCPPJSON
import StationPort
import Storage
import Locking
import Synchronization

/// Smart charging (block K): the charging profiles the CSMS installed, translated into the
/// core's model, persisted in the ConfigStore (one JSON array of the messages as received) so
/// they survive a restart, and handed to the station after every change: its power allocation
/// applies them to the PWM duty from the next loop step on.
final class SmartChargingService: Sendable {
    static let storeKey = "ocpp201.chargingProfiles"
    static let maxStackLevel = 10
    static let maxPeriods = 24
    static let maxProfiles = 20

    struct Rejection: Error, CustomStringConvertible {
        var reasonCode: String
        var description: String
    }

    struct Entry: Sendable, Hashable {
        var evseId: Int
        var profile: ChargingProfileType
    }

    private let store: ConfigStore
    private let station: any StationPort
    private let logger: Logger
    private let state: Mutex<(entries: [Entry], calculator: CompositeScheduleCalculator)>

    /// Loads what was stored (entries that no longer translate are dropped) and tells the station.
    init(store: ConfigStore, station: any StationPort, logger: Logger) {
        self.store = store
        self.station = station
        self.logger = logger
        var entries: [Entry] = []
        var calculator = CompositeScheduleCalculator()
        if let text = (try? store.value(for: Self.storeKey)) ?? nil, case let .array(items)? = try? JSONParser.parse(text) {
            for item in items {
                guard let evseId = item["evseId"]?.int64Value, let json = item["chargingProfile"],
                      let profile = try? ChargingProfileType(json: json),
                      case .success(let installed) = OCPP201Terms.chargingProfile(profile, connectorId: Int(evseId)) else { continue }
                let replaced = calculator.install(installed)
                entries.removeAll { replaced.contains($0.profile.id) }
                entries.append(Entry(evseId: Int(evseId), profile: profile))
            }
        }
        state = Mutex((entries: entries, calculator: calculator))
        if !entries.isEmpty { station.submit(.chargingProfiles(calculator)) }
    }

    var calculator: CompositeScheduleCalculator { state.locked { $0.calculator } }
    var entries: [Entry] { state.locked { $0.entries } }

    /// Checks and installs (replacing a profile with the same id, or the same EVSE, purpose and
    /// stack level). `nowUnixMs` fills a missing startSchedule of an absolute profile.
    func install(_ profile: ChargingProfileType, evseId: Int, nowUnixMs: UInt64) throws(Rejection) {
        if profile.stackLevel > Self.maxStackLevel {
            throw Rejection(reasonCode: "InvalidStackLevel", description: "stackLevel \(profile.stackLevel) is above \(Self.maxStackLevel)")
        }
        if profile.chargingSchedule.contains(where: { $0.chargingSchedulePeriod.count > Self.maxPeriods }) {
            throw Rejection(reasonCode: "TooManyPeriods", description: "more than \(Self.maxPeriods) periods")
        }
        var message = profile
        if message.chargingProfileKind == .absolute, let first = message.chargingSchedule.first, first.startSchedule == nil {
            message.chargingSchedule[0].startSchedule = OCPPTimestamp.string(unixMs: nowUnixMs / 1_000 * 1_000)
        }
        let installed: InstalledChargingProfile
        switch OCPP201Terms.chargingProfile(message, connectorId: evseId) {
        case .success(let i): installed = i
        case .failure(let why): throw Rejection(reasonCode: why.reasonCode, description: why.description)
        }
        let result = state.locked { s -> Result<CompositeScheduleCalculator, Rejection> in
            var calculator = s.calculator
            let replaced = calculator.install(installed)
            var entries = s.entries.filter { !replaced.contains($0.profile.id) }
            entries.append(Entry(evseId: evseId, profile: message))
            if entries.count > Self.maxProfiles {
                return .failure(Rejection(reasonCode: "TooManyProfiles", description: "more than \(Self.maxProfiles) profiles installed"))
            }
            s = (entries, calculator)
            return .success(calculator)
        }
        switch result {
        case .failure(let rejection): throw rejection
        case .success(let calculator): changed(calculator)
        }
    }

    /// Removes what matches every given criterion; the ids removed.
    @discardableResult
    func clear(id: Int? = nil, evseId: Int? = nil, purpose: ChargingProfilePurpose? = nil, stackLevel: Int? = nil) -> [Int] {
        let (removed, calculator) = state.locked { s -> ([Int], CompositeScheduleCalculator) in
            var calculator = s.calculator
            let removed = calculator.clear(id: id, connectorId: evseId, purpose: purpose, stackLevel: stackLevel)
            s.entries.removeAll { removed.contains($0.profile.id) }
            s.calculator = calculator
            return (removed, calculator)
        }
        if !removed.isEmpty { changed(calculator) }
        return removed
    }

    /// A transaction ended: its TxProfiles go with it.
    func transactionEnded(evseId: Int) { clear(evseId: evseId, purpose: .txProfile) }

    private func changed(_ calculator: CompositeScheduleCalculator) {
        let items: [JSONValue] = entries.map { e in
            var o = JSONObject()
            o["evseId"] = .integer(Int64(e.evseId))
            o["chargingProfile"] = e.profile.toJSON()
            return .object(o)
        }
        do { try store.set(JSONWriter.writeString(.array(items)), for: Self.storeKey) } catch {
            logger.error("charging profiles not stored: \(error)")
        }
        station.submit(.chargingProfiles(calculator))
    }

    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(SetChargingProfileRequest.self) { station, request in await station.setChargingProfile(request) }
        registry.register(ClearChargingProfileRequest.self) { station, request in station.clearChargingProfile(request) }
        registry.registerAnswering(GetChargingProfilesRequest.self) { station, request in station.getChargingProfiles(request) }
        registry.register(GetCompositeScheduleRequest.self) { station, request in await station.getCompositeSchedule(request) }
    }
}

extension OCPP201Terms {
    static func purpose(_ p: ChargingProfilePurposeEnumType) -> ChargingProfilePurpose? {
        switch p {
        case .chargingStationMaxProfile: .chargingStationMaxProfile
        case .txDefaultProfile: .txDefaultProfile
        case .txProfile: .txProfile
        case .chargingStationExternalConstraints: nil
        }
    }
}
