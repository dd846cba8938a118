import ChargingCore
import HAL
import StationPort

/// The prices and costs a backend sent for the driver's display, and the languages to show
/// them in. Loop-confined like the rest of the station. Bounded: a backend that sends prices
/// for many drivers who never plug in cannot grow it without limit.
struct StationPricing {
    var defaultPrice: LocalizedText?
    var offlinePrice: LocalizedText?
    /// The `Language` a backend set (an IETF tag); nil: the station file's language.
    var stationLanguage: String?
    var driverPrices: [String: (text: LocalizedText, language: String?)] = [:]
    private var driverOrder: [String] = []
    var runningCosts: [String: RunningCost] = [:]
    var finalCosts: [String: FinalCost] = [:]
    private var finalOrder: [String] = []

    static let maxDrivers = 32
    static let maxFinalCosts = 16

    mutating func apply(_ update: PriceUpdate, liveSessions: Set<String>) {
        switch update {
        case let .defaultPrice(text, offline):
            defaultPrice = text
            offlinePrice = offline
        case let .stationLanguage(tag):
            stationLanguage = tag.isEmpty ? nil : tag
        case let .driverPrice(token, text, language):
            driverPrices[token] = (text, language)
            driverOrder.removeAll { $0 == token }
            driverOrder.append(token)
            while driverOrder.count > Self.maxDrivers { driverPrices[driverOrder.removeFirst()] = nil }
        case let .runningCost(cost):
            runningCosts[cost.sessionId] = cost
        case let .finalCost(cost):
            finalCosts[cost.sessionId] = cost
            runningCosts[cost.sessionId] = nil
            finalOrder.removeAll { $0 == cost.sessionId }
            finalOrder.append(cost.sessionId)
            while finalOrder.count > Self.maxFinalCosts { finalCosts[finalOrder.removeFirst()] = nil }
        }
        // A running cost is shown only while its session runs: the ones of ended sessions go.
        runningCosts = runningCosts.filter { liveSessions.contains($0.key) }
    }

    func driverLanguage(_ token: String?) -> String? {
        token.flatMap { driverPrices[$0]?.language }
    }
}

extension Station {
    /// A backend's price, cost or language (`StationRequest.showPrice`); the display shows it
    /// from this step on.
    public func showPrice(_ update: PriceUpdate, at now: MonotonicInstant) {
        let live = Set(connectors.compactMap { $0.machine.session?.id })
        pricing.apply(update, liveSessions: live)
        if case let .stationLanguage(tag) = update {
            scheduler.language = DisplayLanguage(tag: tag.isEmpty ? config.language : tag) ?? scheduler.language
        }
        renderDisplay(at: now, force: true)
    }

    /// The token the connector's screen is about: the running session's, the finished one's,
    /// or the one authorized and waiting for the EV.
    func driverToken(_ c: Connector) -> String? {
        c.machine.session?.idToken.value ?? c.machine.grantedToken?.value ?? c.lastFinished?.idToken
    }

    /// The languages to pick a text by, best first: the driver's, then the station's.
    func languagePreference(_ c: Connector) -> [String] {
        [pricing.driverLanguage(driverToken(c)), pricing.stationLanguage, config.language].compactMap { $0 }
    }

    /// The URL a finished session's FinalCost asked to show as a QR code.
    func qrCodeText(_ c: Connector, state: DisplayState) -> String? {
        guard case .finished = state, let f = c.lastFinished else { return nil }
        return pricing.finalCosts[f.sessionId]?.qrCodeText
    }

    /// The price or cost that goes with the connector's screen.
    func priceLine(_ c: Connector, state: DisplayState, backendOnline: Bool) -> PriceLine? {
        let languages = languagePreference(c)
        switch state {
        case .idle, .reserved:
            let text = backendOnline ? pricing.defaultPrice : (pricing.offlinePrice ?? pricing.defaultPrice)
            return text.map { .price($0.text(preferring: languages)) }
        case .authorizing, .plugInCable:
            guard let token = driverToken(c), let p = pricing.driverPrices[token] else {
                return pricing.defaultPrice.map { .price($0.text(preferring: languages)) }
            }
            return .price(p.text.text(preferring: languages))
        case .charging, .suspended:
            guard let s = c.machine.session, let cost = pricing.runningCosts[s.id] else { return nil }
            let meterWh = Int64((c.lastMeterSample?.energyWh ?? s.lastKnownEnergyWh).rounded())
            return .runningCost(cost.estimate(atUnixSeconds: Int64(wallClock.unixMilliseconds() / 1_000), meterWh: meterWh))
        case .finished:
            guard let f = c.lastFinished, let cost = pricing.finalCosts[f.sessionId] else { return nil }
            return .finalCost(cost.cost, text: cost.text.text(preferring: languages))
        case .authorizationRejected, .unavailable, .faulted:
            return nil
        }
    }
}
