/// The price or cost a screen carries, chosen by the station for the state it shows.
public enum PriceLine: Hashable, Sendable {
    /// Idle: the station's default price; identified: the driver's price. Shown under the
    /// status lines, paged when long.
    case price(String)
    /// Charging: the running cost, beside the kW and kWh.
    case runningCost(Money)
    /// Finished: the total (nil when the backend gave none), and the backend's text about it
    /// (paged when long).
    case finalCost(Money?, text: String?)
}
