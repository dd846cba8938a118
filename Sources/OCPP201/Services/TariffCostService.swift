import ChargingCore
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import StationPort

/// Tariff and cost (block I): what the CSMS tells the driver about money, on the station's
/// display through the same `.showPrice` updates as the 1.6 California Pricing note:
/// - the tariff when the driver identifies: `idTokenInfo.personalMessage` of the Authorize or
///   TransactionEvent answer (`.driverPrice`), in the driver's language (`language1`, else
///   `language2`, when the station has screens in it; else the station's);
/// - the running cost: `totalCost` of a TransactionEvent answer during the transaction, or a
///   CostUpdated while it runs (`.runningCost`), and the answer's `updatedPersonalMessage` as a
///   message in the normal cycle bound to the transaction (the station's status line stays);
/// - the final cost: `totalCost` of the Ended event's answer, or a CostUpdated after the end
///   (`.finalCost`), with the answer's `updatedPersonalMessage` as its text.
///
/// Money is the JSON decimal converted once into minor units of the currency
/// (`TariffCostCtrlr.Currency`), never a floating-point sum. TariffCostCtrlr.Enabled[Tariff] and
/// Enabled[Cost] switch each part off; TariffFallbackMessage is the price shown while idle.
enum TariffCostService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(CostUpdatedRequest.self) { station, request in station.costUpdated(request) }
    }

    /// ISO 4217 currencies without minor units; every other one has two (the few with three
    /// are shown with two: a driver's display does not show mills).
    static let wholeUnitCurrencies: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                                                   "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"]

    static func decimals(ofCurrency code: String) -> Int { wholeUnitCurrencies.contains(code.uppercased()) ? 0 : 2 }

    /// The driver's language: the first of language1 and language2 the station has screens in,
    /// else language1 as given (its texts may still match it).
    static func driverLanguage(_ info: IdTokenInfoType) -> String? {
        let given = [info.language1, info.language2].compactMap { $0 }.filter { !$0.isEmpty }
        return given.first { DisplayLanguage(tag: $0) != nil } ?? given.first
    }

    /// A 2.0.1 message as a text in its language (the untagged fallback is the same text).
    static func localized(_ message: MessageContentType, limit: Int) -> LocalizedText {
        let text = String(message.content.prefix(limit))
        return LocalizedText(text, translations: message.language.map { [$0: text] } ?? [:])
    }
}

extension OCPP201ChargingStation {
    /// The station's own texts: its language (DisplayMessageCtrlr.Language) and the price shown
    /// while idle (TariffCostCtrlr.TariffFallbackMessage). At start and when either changes.
    func showStationTexts() {
        if let language = settings.displayLanguage { station.submit(.showPrice(.stationLanguage(language))) }
        let fallback = settings.tariffEnabled && !settings.tariffFallbackMessage.isEmpty
            ? LocalizedText(settings.tariffFallbackMessage) : nil
        station.submit(.showPrice(.defaultPrice(fallback, offline: nil)))
    }

    /// The CSMS's answer about a token (Authorize, TransactionEvent): the driver's tariff and
    /// language, shown once they are identified. No personal message: the fallback tariff, if any.
    func showTariff(token: String, _ info: IdTokenInfoType) {
        guard settings.tariffEnabled, info.status == .accepted else { return }
        let language = TariffCostService.driverLanguage(info)
        let text: LocalizedText
        if let message = info.personalMessage {
            text = TariffCostService.localized(message, limit: DisplayMessageCapacity.personalMessageSize)
        } else if !settings.tariffFallbackMessage.isEmpty || language != nil {
            text = LocalizedText(settings.tariffFallbackMessage)
        } else {
            return
        }
        station.submit(.showPrice(.driverPrice(idToken: token, text, language: language)))
    }

    /// A cost the CSMS sent for a transaction: running while it runs, final once it ended.
    func showCost(transactionId: String, totalCost: Double, ended: Bool, text: MessageContentType?) {
        guard settings.costEnabled,
              let cost = Money(totalCost, decimals: TariffCostService.decimals(ofCurrency: settings.currency)) else { return }
        if ended {
            // TotalCostFallbackMessage is for an end without a total, not beside one.
            let message = text.map { TariffCostService.localized($0, limit: DisplayMessageCapacity.personalMessageSize) }
                ?? LocalizedText("")
            station.submit(.showPrice(.finalCost(FinalCost(sessionId: transactionId, cost: cost, text: message))))
        } else {
            // The CSMS's figure as it is: no local prices to carry it forward with.
            station.submit(.showPrice(.runningCost(RunningCost(sessionId: transactionId, cost: cost,
                                                               atUnixSeconds: Int64(unixMs() / 1_000), meterWh: 0,
                                                               phase: .charging, chargingPrice: ChargingPrice()))))
        }
    }

    /// The end of a transaction whose total the station cannot show: the CSMS's Ended answer had
    /// no totalCost, or the station is offline as it ends. TotalCostFallbackMessage tells the
    /// driver where the cost will be (empty: nothing is shown). A total that comes later (the
    /// queued Ended's answer, a CostUpdated) replaces it.
    func showTotalCostFallback(transactionId: String) {
        guard settings.costEnabled, !settings.totalCostFallbackMessage.isEmpty else { return }
        station.submit(.showPrice(.finalCost(FinalCost(sessionId: transactionId, cost: nil,
                                                       text: LocalizedText(settings.totalCostFallbackMessage)))))
    }

    /// The answer to a TransactionEvent: the token's tariff, the running or final cost.
    func showTariffAndCost(_ event: TransactionEventRequest, _ response: TransactionEventResponse) {
        let transactionId = event.transactionInfo.transactionId
        if let info = response.idTokenInfo, let token = event.idToken { showTariff(token: token.idToken, info) }
        if let total = response.totalCost {
            showCost(transactionId: transactionId, totalCost: total, ended: event.eventType == .ended,
                     text: response.updatedPersonalMessage)
        } else if event.eventType == .ended {
            showTotalCostFallback(transactionId: transactionId)
        }
        // Bound to the transaction, it leaves the glass when the transaction ends; the next one on
        // the EVSE replaces it, so the scheduler holds at most one per EVSE.
        let messageId = TariffCostService.personalMessageId(evseId: event.evse?.id ?? 0)
        if event.eventType != .ended, settings.costEnabled, let message = response.updatedPersonalMessage,
           !message.content.isEmpty {
            let text = String(message.content.prefix(DisplayMessageCapacity.personalMessageSize))
            station.submit(.showMessage(DisplayMessage(id: messageId, priority: .normalCycle, text: text,
                                                       transactionId: transactionId)))
        }
    }
}

extension TariffCostService {
    /// The display-message id of the running transaction's personal message on an EVSE: outside
    /// anything a CSMS numbers its messages with (they are 32-bit in practice), one per EVSE, so
    /// the next message replaces the last.
    static func personalMessageId(evseId: Int) -> Int { Int.min + evseId }
}
