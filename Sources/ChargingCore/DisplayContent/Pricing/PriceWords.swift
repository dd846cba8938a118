/// The words of the price and cost lines, one row per language. Adding a language to the
/// station screens: a case in `DisplayLanguage`, a row here, and its column in
/// `DisplayContent.segments` (the station's own screens).
public struct PriceWords: Sendable {
    public var decimalSeparator: Character
    /// Before the running cost: "Cost 1.23".
    public var cost: String
    /// Before the final cost: "Total 3.31".
    public var total: String

    public static let table: [DisplayLanguage: PriceWords] = [
        .en: PriceWords(decimalSeparator: ".", cost: "Cost", total: "Total"),
        .de: PriceWords(decimalSeparator: ",", cost: "Kosten", total: "Gesamt"),
        .fr: PriceWords(decimalSeparator: ",", cost: "Coût", total: "Total"),
        .nl: PriceWords(decimalSeparator: ",", cost: "Kosten", total: "Totaal"),
    ]

    public static func of(_ language: DisplayLanguage) -> PriceWords {
        table[language] ?? PriceWords(decimalSeparator: ".", cost: "Cost", total: "Total")
    }
}

/// The price or cost a screen carries, chosen by the station for the state it shows.
public enum PriceLine: Hashable, Sendable {
    /// Idle: the station's default price; identified: the driver's price. Shown under the
    /// status lines, paged when long.
    case price(String)
    /// Charging: the running cost, beside the kW and kWh.
    case runningCost(Money)
    /// Finished: the total, and the backend's text about it (paged when long).
    case finalCost(Money, text: String?)
}
