import ChargingCore
import OCPP16Messages
import OCPPJSON
import StationPort

/// The OCA application note "OCPP & California Pricing Requirements" for OCPP 1.6: prices and
/// costs for the driver's display over DataTransfer (vendorId `org.openchargealliance.costmsg`)
/// and configuration keys.
///
/// - `SetUserPrice` {idToken, priceText, priceTextExtra?: [{format, language, content}],
///   language?}: the driver's price, shown once they are identified. `language` (the driver's
///   IETF tag) is optional; with it the station's screens and the texts follow the driver.
/// - `RunningCost` {transactionId, timestamp, meterValue (Wh), cost, state Charging|Idle,
///   chargingPrice {kWhPrice, hourPrice, flatFee}, idlePrice {graceMinutes, hourPrice},
///   nextPeriod {atTime, chargingPrice, idlePrice}, triggerMeterValue {atTime, atEnergykWh,
///   atPowerkW, atCPStatus[]}}: the cost so far; the station carries it forward with the prices
///   between messages and sends a MeterValues when a trigger fires.
/// - `FinalCost` {transactionId, cost, priceText, priceTextExtra?, qrCodeText?}: the total.
///
/// Costs become `Money` with NumberOfDecimalsForCostValues decimals, prices with 6: integers
/// from then on. A message that does not parse is Rejected and changes nothing; an unknown
/// messageId is UnknownMessageId; with CustomDisplayCostAndPrice false every message is
/// Rejected.
public struct CaliforniaPricingService: Sendable {
    public static let vendorId = "org.openchargealliance.costmsg"
    public typealias ChargePointStatus = StatusNotificationRequest.ChargePointStatus
    public static let priceDecimals = 6
    /// The languages the station has screens in, as `SupportedLanguages` reports them.
    public static var supportedLanguages: [String] { DisplayLanguage.allCases.map(\.rawValue) }

    /// A parsed message, ready for the station.
    public enum Message: Sendable, Hashable {
        case setUserPrice(idToken: String, LocalizedText, language: String?)
        case runningCost(transactionId: Int, RunningCostFields, triggers: MeterValueTriggers?)
        case finalCost(transactionId: Int, cost: Money, LocalizedText, qrCodeText: String?)
    }

    /// RunningCost without the station's session id (the adapter maps the transactionId).
    public struct RunningCostFields: Sendable, Hashable {
        public var cost: Money
        public var atUnixSeconds: Int64
        public var meterWh: Int64
        public var phase: RunningCost.Phase
        public var chargingPrice: ChargingPrice
        public var idlePrice: IdlePrice?
        public var nextPeriod: PricePeriod?

        public func runningCost(sessionId: String) -> RunningCost {
            var r = RunningCost(sessionId: sessionId, cost: cost, atUnixSeconds: atUnixSeconds, meterWh: meterWh, phase: phase,
                                chargingPrice: chargingPrice, idlePrice: idlePrice)
            r.nextPeriod = nextPeriod
            return r
        }
    }

    /// When the CSMS wants a MeterValues besides the sampled ones (triggerMeterValue).
    public struct MeterValueTriggers: Sendable, Hashable {
        public var atUnixSeconds: Int64?
        /// Energy of the transaction (kWh × 1000, Wh).
        public var atEnergyWh: Int64?
        /// Power threshold (W), crossed up or down.
        public var atPowerW: Int64?
        public var atStatus: Set<ChargePointStatus>

        public init(atUnixSeconds: Int64? = nil, atEnergyWh: Int64? = nil, atPowerW: Int64? = nil, atStatus: Set<ChargePointStatus> = []) {
            self.atUnixSeconds = atUnixSeconds
            self.atEnergyWh = atEnergyWh
            self.atPowerW = atPowerW
            self.atStatus = atStatus
        }
    }

    public enum ParseResult: Sendable, Hashable {
        case message(Message)
        case unknownMessageId
        case rejected(String)
    }

    /// Parses one DataTransfer of this vendor. `costDecimals` is NumberOfDecimalsForCostValues.
    public static func parse(messageId: String?, data: String?, costDecimals: Int) -> ParseResult {
        guard let messageId, ["SetUserPrice", "RunningCost", "FinalCost"].contains(messageId) else { return .unknownMessageId }
        guard let data, let json = try? JSONParser.parse(data, limits: .init(maxBytes: 64 << 10, maxDepth: 8, maxValues: 2_000)),
              json.objectValue != nil else {
            return .rejected("\(messageId): data is not a JSON object")
        }
        do {
            switch messageId {
            case "SetUserPrice":
                let token = try string(json, "idToken", max: 36)
                let text = try localizedText(json)
                let language = try optionalString(json, "language", max: 35)
                return .message(.setUserPrice(idToken: token, text, language: language))
            case "RunningCost":
                let id = try integer(json, "transactionId")
                let at = try dateTime(json, "timestamp")
                let meter = try integer(json, "meterValue")
                let cost = try money(json, "cost", decimals: costDecimals)
                let stateText = try string(json, "state", max: 20)
                guard let phase = RunningCost.Phase(rawValue: stateText) else { throw Problem("state must be Charging or Idle, not \(stateText)") }
                guard let cp = json["chargingPrice"] else { throw Problem("chargingPrice is missing") }
                let fields = RunningCostFields(cost: cost, atUnixSeconds: at, meterWh: Int64(meter), phase: phase,
                                               chargingPrice: try chargingPrice(cp), idlePrice: try json["idlePrice"].map(idlePrice),
                                               nextPeriod: try json["nextPeriod"].map(nextPeriod))
                return .message(.runningCost(transactionId: id, fields, triggers: try json["triggerMeterValue"].map(triggers)))
            default:
                let id = try integer(json, "transactionId")
                let cost = try money(json, "cost", decimals: costDecimals)
                let text = try localizedText(json)
                let qr = try optionalString(json, "qrCodeText", max: 512)
                return .message(.finalCost(transactionId: id, cost: cost, text, qrCodeText: qr))
            }
        } catch let p as Problem {
            return .rejected("\(messageId): \(p.why)")
        } catch {
            return .rejected("\(messageId): \(error)")
        }
    }

    struct Problem: Error { var why: String; init(_ w: String) { why = w } }

    static func string(_ j: JSONValue, _ key: String, max: Int) throws -> String {
        guard let v = j[key] else { throw Problem("\(key) is missing") }
        guard let s = v.stringValue else { throw Problem("\(key) is not a string") }
        guard s.count <= max else { throw Problem("\(key) is longer than \(max) characters") }
        return s
    }

    static func optionalString(_ j: JSONValue, _ key: String, max: Int) throws -> String? {
        guard j[key] != nil, j[key]?.isNull == false else { return nil }
        return try string(j, key, max: max)
    }

    static func integer(_ j: JSONValue, _ key: String) throws -> Int {
        guard let v = j[key] else { throw Problem("\(key) is missing") }
        guard let i = v.int64Value, let n = Int(exactly: i) else { throw Problem("\(key) is not an integer") }
        return n
    }

    static func decimal(_ v: JSONValue, _ key: String, decimals: Int) throws -> Money {
        guard let d = v.doubleValue, let m = Money(d, decimals: decimals) else { throw Problem("\(key) is not a number") }
        guard m.minorUnits >= 0 else { throw Problem("\(key) is negative") }
        return m
    }

    static func money(_ j: JSONValue, _ key: String, decimals: Int) throws -> Money {
        guard let v = j[key] else { throw Problem("\(key) is missing") }
        return try decimal(v, key, decimals: decimals)
    }

    static func dateTime(_ j: JSONValue, _ key: String) throws -> Int64 {
        let text = try string(j, key, max: 40)
        guard let ms = OCPP16Timestamp.unixMs(text) else { throw Problem("\(key) is not a date-time: \(text)") }
        return Int64(ms / 1_000)
    }

    /// `priceText` and its translations (`priceTextExtra`, the note's multi-language texts).
    static func localizedText(_ j: JSONValue) throws -> LocalizedText {
        let text = try string(j, "priceText", max: 1_000)
        var translations: [String: String] = [:]
        if let extra = j["priceTextExtra"] {
            guard let items = extra.arrayValue, items.count <= 16 else { throw Problem("priceTextExtra is not a list of at most 16 texts") }
            for item in items {
                let format = try optionalString(item, "format", max: 10) ?? "UTF8"
                guard format == "UTF8" || format == "ASCII" else { throw Problem("priceTextExtra format \(format) is not shown (UTF8, ASCII)") }
                let language = try string(item, "language", max: 35)
                translations[language] = try string(item, "content", max: 1_000)
            }
        }
        return LocalizedText(text, translations: translations)
    }

    static func chargingPrice(_ v: JSONValue) throws -> ChargingPrice {
        guard v.objectValue != nil else { throw Problem("chargingPrice is not an object") }
        return ChargingPrice(perKilowattHour: try v["kWhPrice"].map { try decimal($0, "kWhPrice", decimals: priceDecimals) },
                             perHour: try v["hourPrice"].map { try decimal($0, "hourPrice", decimals: priceDecimals) },
                             flatFee: try v["flatFee"].map { try decimal($0, "flatFee", decimals: priceDecimals) })
    }

    static func idlePrice(_ v: JSONValue) throws -> IdlePrice {
        guard v.objectValue != nil else { throw Problem("idlePrice is not an object") }
        let grace = try v["graceMinutes"].map { g -> Int in
            guard let n = g.int64Value, (0...10_080).contains(n) else { throw Problem("graceMinutes is not 0…10080") }
            return Int(n)
        } ?? 0
        return IdlePrice(graceMinutes: grace, perHour: try v["hourPrice"].map { try decimal($0, "hourPrice", decimals: priceDecimals) })
    }

    static func nextPeriod(_ v: JSONValue) throws -> PricePeriod {
        guard v.objectValue != nil else { throw Problem("nextPeriod is not an object") }
        guard let cp = v["chargingPrice"] else { throw Problem("nextPeriod.chargingPrice is missing") }
        return PricePeriod(atUnixSeconds: try dateTime(v, "atTime"), chargingPrice: try chargingPrice(cp),
                           idlePrice: try v["idlePrice"].map(idlePrice))
    }

    static func triggers(_ v: JSONValue) throws -> MeterValueTriggers {
        guard v.objectValue != nil else { throw Problem("triggerMeterValue is not an object") }
        var t = MeterValueTriggers()
        if v["atTime"] != nil { t.atUnixSeconds = try dateTime(v, "atTime") }
        if let e = v["atEnergykWh"] { t.atEnergyWh = try decimal(e, "atEnergykWh", decimals: 3).minorUnits }
        if let p = v["atPowerkW"] { t.atPowerW = try decimal(p, "atPowerkW", decimals: 3).minorUnits }
        if let list = v["atCPStatus"] {
            guard let items = list.arrayValue, items.count <= 6 else { throw Problem("atCPStatus is not a list of at most 6 statuses") }
            for item in items {
                guard let s = item.stringValue.flatMap(ChargePointStatus.init(rawValue:)) else { throw Problem("atCPStatus has an unknown status") }
                t.atStatus.insert(s)
            }
        }
        return t
    }

    // MARK: Configuration values

    /// DefaultPrice: {priceText, priceTextOffline?, chargingPrice?} → nil when valid.
    static func defaultPriceProblem(_ value: String) -> String? {
        guard !value.isEmpty else { return nil }
        guard let json = try? JSONParser.parse(value, limits: .init(maxBytes: 4_096, maxDepth: 4, maxValues: 64)), json.objectValue != nil else {
            return "DefaultPrice is not a JSON object"
        }
        do {
            _ = try string(json, "priceText", max: 1_000)
            _ = try optionalString(json, "priceTextOffline", max: 1_000)
            if let cp = json["chargingPrice"] { _ = try chargingPrice(cp) }
            return nil
        } catch let p as Problem { return p.why } catch { return "\(error)" }
    }

    /// DefaultPriceText,<language>: {priceText, priceTextOffline?}.
    static func defaultPriceTextProblem(_ value: String) -> String? {
        guard !value.isEmpty else { return nil }
        guard let json = try? JSONParser.parse(value, limits: .init(maxBytes: 4_096, maxDepth: 4, maxValues: 64)), json.objectValue != nil else {
            return "not a JSON object {priceText, priceTextOffline}"
        }
        do {
            _ = try string(json, "priceText", max: 1_000)
            _ = try optionalString(json, "priceTextOffline", max: 1_000)
            return nil
        } catch let p as Problem { return p.why } catch { return "\(error)" }
    }

    /// A UTC offset `+HH:MM` / `-HH:MM` (TimeOffset, TimeOffsetNextTransition).
    static func offsetMinutes(_ value: String) -> Int? {
        let chars = Array(value)
        guard chars.count == 6, chars[0] == "+" || chars[0] == "-", chars[3] == ":",
              let h = Int(String(chars[1...2])), let m = Int(String(chars[4...5])), h <= 14, m < 60 else { return nil }
        return (chars[0] == "-" ? -1 : 1) * (h * 60 + m)
    }

    /// The display's default price from the keys: DefaultPrice, with each language's
    /// DefaultPriceText as translations.
    static func defaultPrice(_ config: ConfigurationService) -> (LocalizedText?, offline: LocalizedText?) {
        var text: String?
        var offline: String?
        if let v = config.value("DefaultPrice"), !v.isEmpty, let json = try? JSONParser.parse(v) {
            text = json["priceText"]?.stringValue
            offline = json["priceTextOffline"]?.stringValue
        }
        var translations: [String: String] = [:]
        var offlineTranslations: [String: String] = [:]
        for language in supportedLanguages {
            guard let v = config.value("DefaultPriceText,\(language)"), !v.isEmpty, let json = try? JSONParser.parse(v) else { continue }
            translations[language] = json["priceText"]?.stringValue
            offlineTranslations[language] = json["priceTextOffline"]?.stringValue
        }
        let online = (text ?? translations.values.first).map { LocalizedText($0, translations: translations) }
        let off = (offline ?? offlineTranslations.values.first).map { LocalizedText($0, translations: offlineTranslations) }
        return (online, off)
    }

    /// Keys whose change goes to the display at once.
    static let displayKeys: Set<String> = Set(["DefaultPrice", "Language", "CustomDisplayCostAndPrice"]
        + supportedLanguages.map { "DefaultPriceText,\($0)" })

    // MARK: Triggers

    /// The triggers of each running transaction's last RunningCost, and what was last seen, to
    /// fire on a crossing rather than on every reading above a threshold.
    var triggers: [String: MeterValueTriggers] = [:]
    var lastPowerAbove: [String: Bool] = [:]
    var energyFired: Set<String> = []
    var timeFired: Set<String> = []

    public init() {}

    public mutating func setTriggers(_ t: MeterValueTriggers?, session: String) {
        triggers[session] = t
        lastPowerAbove[session] = nil
        energyFired.remove(session)
        timeFired.remove(session)
    }

    /// A meter reading of the session: true when it crosses a trigger.
    public mutating func reading(session: String, energyWh: Int64, powerW: Double?) -> Bool {
        guard let t = triggers[session] else { return false }
        var fire = false
        if let e = t.atEnergyWh, energyWh >= e, !energyFired.contains(session) {
            energyFired.insert(session)
            fire = true
        }
        if let p = t.atPowerW, let w = powerW {
            // Hysteresis of 5 % (at least 10 W) so a power hovering at the threshold does not
            // send a reading every second.
            let band = max(10, p / 20)
            let was = lastPowerAbove[session]
            let above: Bool? = w >= Double(p + band) ? true : (w <= Double(p - band) ? false : was)
            if let above, let was, above != was { fire = true }
            if let above { lastPowerAbove[session] = above }
        }
        return fire
    }

    public mutating func status(session: String, _ status: ChargePointStatus) -> Bool {
        triggers[session]?.atStatus.contains(status) ?? false
    }

    /// Seconds from `now` until the earliest atTime that has not fired yet (nil: none).
    public func secondsUntilNextTimeTrigger(atUnixSeconds now: Int64) -> Int? {
        let next = triggers.compactMap { s, t in timeFired.contains(s) ? nil : t.atUnixSeconds }.min()
        return next.map { Int(clamping: max(0, $0 - now)) }
    }

    /// Sessions whose atTime has come.
    public mutating func due(atUnixSeconds now: Int64) -> [String] {
        var out: [String] = []
        for (s, t) in triggers {
            if let at = t.atUnixSeconds, now >= at, !timeFired.contains(s) {
                timeFired.insert(s)
                out.append(s)
            }
        }
        return out
    }

    public mutating func ended(session: String) {
        setTriggers(nil, session: session)
        lastPowerAbove[session] = nil
    }
}

extension OCPP16ChargePoint {
    /// DataTransfer for `org.openchargealliance.costmsg`.
    func californiaPricingDataTransfer(_ request: DataTransferRequest) -> DataTransferResponse {
        let decimals = configuration.int("NumberOfDecimalsForCostValues") ?? 2
        let parsed = CaliforniaPricingService.parse(messageId: request.messageId, data: request.data, costDecimals: decimals)
        guard configuration.bool("CustomDisplayCostAndPrice") else {
            logger.info("DataTransfer \(request.messageId ?? "-"): CustomDisplayCostAndPrice is false")
            return DataTransferResponse(status: .rejected)
        }
        switch parsed {
        case .unknownMessageId:
            return DataTransferResponse(status: .unknownMessageId)
        case let .rejected(why):
            logger.notice("DataTransfer costmsg rejected: \(why)")
            return DataTransferResponse(status: .rejected)
        case let .message(.setUserPrice(token, text, language)):
            station.submit(.showPrice(.driverPrice(idToken: token, text, language: language)))
        case let .message(.runningCost(transactionId, fields, triggers)):
            guard let session = transactions.sessionId(ofTransaction: transactionId) else {
                logger.notice("DataTransfer RunningCost: unknown transaction \(transactionId)")
                return DataTransferResponse(status: .rejected)
            }
            pricing.setTriggers(triggers, session: session)
            if triggers?.atUnixSeconds != nil { restartMetering() }
            station.submit(.showPrice(.runningCost(fields.runningCost(sessionId: session))))
        case let .message(.finalCost(transactionId, cost, text, qr)):
            guard let session = transactions.sessionId(ofTransaction: transactionId) else {
                logger.notice("DataTransfer FinalCost: unknown transaction \(transactionId)")
                return DataTransferResponse(status: .rejected)
            }
            pricing.ended(session: session)
            station.submit(.showPrice(.finalCost(FinalCost(sessionId: session, cost: cost, text: text, qrCodeText: qr))))
        }
        return DataTransferResponse(status: .accepted)
    }

    /// The display keys as they are now, to the station (at start and after a change).
    func applyDisplayKeys() {
        let enabled = configuration.bool("CustomDisplayCostAndPrice")
        let (price, offline) = CaliforniaPricingService.defaultPrice(configuration)
        station.submit(.showPrice(.defaultPrice(enabled ? price : nil, offline: enabled ? offline : nil)))
        // Empty: the station file's language (sent too, so clearing the key takes effect).
        station.submit(.showPrice(.stationLanguage(configuration.value("Language") ?? "")))
    }

    /// RunningCost's triggerMeterValue: a reading crossing atEnergykWh or atPowerkW, or a status
    /// in atCPStatus, sends a MeterValues (the CSMS answers with a new RunningCost).
    func pricingTriggers(_ event: StationEvent) {
        switch event {
        case let .meterSample(id, sample):
            guard let s = startedSession(onConnector: id) else { return }
            let used = Int64(max(0, sample.energyWh - s.meterStartWh).rounded())
            if pricing.reading(session: s.id, energyWh: used, powerW: sample.powerW) {
                Task { await self.sendTriggeredMeterValues(session: s.id, connectorId: id) }
            }
        case let .statusChanged(id, status, _, _):
            guard let s = startedSession(onConnector: id),
                  let ocpp = CaliforniaPricingService.ChargePointStatus(rawValue: status.rawValue),
                  pricing.status(session: s.id, ocpp) else { return }
            Task { await self.sendTriggeredMeterValues(session: s.id, connectorId: id) }
        case let .sessionEnded(s):
            pricing.ended(session: s.id)
        default:
            break
        }
    }

    /// atTime triggers that have come (the metering tick calls this every second).
    func pricingTimeTriggers() async {
        let due = pricing.due(atUnixSeconds: Int64(unixMs() / 1_000))
        guard !due.isEmpty else { return }
        for c in await connectors() {
            if let s = c.session, due.contains(s.id) { await sendTriggeredMeterValues(session: s.id, connectorId: c.id) }
        }
    }

    /// A MeterValues the CSMS asked for with triggerMeterValue, queued with the transaction.
    func sendTriggeredMeterValues(session: String, connectorId: Int) async {
        guard let c = await connectors().first(where: { $0.id == connectorId }), c.session?.id == session else { return }
        let now = unixMs()
        guard let value = MeterValuesOperation.meterValue(c, measurands: configuration.measurands("MeterValuesSampledData"),
                                                         context: .trigger, atUnixMs: now) else { return }
        let request = MeterValuesRequest(connectorId: connectorId, transactionId: nil, meterValue: [value])
        if transactions.enqueueMeterValues(request, session: session, atUnixMs: now) { outboxKick.yield() }
    }
}
