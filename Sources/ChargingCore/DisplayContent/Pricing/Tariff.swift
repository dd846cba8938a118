/// What charging costs per unit, as a backend tells it (the California Pricing note's
/// ChargingPrice / IdlePrice). Any part may be missing: a missing part costs nothing.
public struct ChargingPrice: Hashable, Sendable {
    public var perKilowattHour: Money?
    public var perHour: Money?
    public var flatFee: Money?

    public init(perKilowattHour: Money? = nil, perHour: Money? = nil, flatFee: Money? = nil) {
        self.perKilowattHour = perKilowattHour
        self.perHour = perHour
        self.flatFee = flatFee
    }
}

public struct IdlePrice: Hashable, Sendable {
    /// Idle time before this is charged, counted from the cost's timestamp.
    public var graceMinutes: Int
    public var perHour: Money?

    public init(graceMinutes: Int = 0, perHour: Money? = nil) {
        self.graceMinutes = graceMinutes
        self.perHour = perHour
    }
}

/// The backend's cost of a running session at one meter reading, and the prices to carry it
/// forward locally until the next one (the note's RunningCost): the display shows
/// `cost + energy since × kWh price + time since × hour price` (or the idle price after its
/// grace when the backend says the session is idle), so the figure moves between messages.
public struct RunningCost: Hashable, Sendable {
    public enum Phase: String, Hashable, Sendable { case charging = "Charging", idle = "Idle" }

    /// The station's session this cost belongs to.
    public var sessionId: String
    public var cost: Money
    /// The reading the cost is based on: when (Unix seconds) and the meter's register (Wh).
    public var atUnixSeconds: Int64
    public var meterWh: Int64
    public var phase: Phase
    public var chargingPrice: ChargingPrice
    public var idlePrice: IdlePrice?
    /// Prices from a time on (the note's nextPeriod).
    public var nextPeriod: PricePeriod?

    public init(sessionId: String, cost: Money, atUnixSeconds: Int64, meterWh: Int64, phase: Phase,
                chargingPrice: ChargingPrice, idlePrice: IdlePrice? = nil) {
        self.sessionId = sessionId
        self.cost = cost
        self.atUnixSeconds = atUnixSeconds
        self.meterWh = meterWh
        self.phase = phase
        self.chargingPrice = chargingPrice
        self.idlePrice = idlePrice
    }

    /// The cost now: the backend's figure plus what was used since its reading, in the cost's
    /// decimals. A meter that reads less than the backend's reading (another meter, a reset)
    /// adds nothing rather than subtracting.
    public func estimate(atUnixSeconds now: Int64, meterWh current: Int64) -> Money {
        let d = cost.decimals
        // Pieces are summed with three more decimals and rounded once at the end.
        let w = min(d + 3, Money.maxDecimals)
        var total = cost
        let start = atUnixSeconds
        let end = max(now, start)
        // The price in force changes once, at nextPeriod; energy since the reading is split by
        // time in proportion (the meter reading at the switch is not known).
        let switchAt = nextPeriod.map { $0.atUnixSeconds }.map { min(max($0, start), end) } ?? end
        let energy = max(0, current - meterWh)
        let span = end - start
        func part(_ from: Int64, _ to: Int64, _ charging: ChargingPrice, _ idle: IdlePrice?) -> Money {
            guard to > from || (span == 0 && energy > 0 && from == start) else { return .zero(decimals: w) }
            var sum = Money.zero(decimals: w)
            switch phase {
            case .charging:
                let wh = span > 0 ? energy * (to - from) / span : energy
                if let k = charging.perKilowattHour { sum = sum + k.times(wh, per: 1_000, decimals: w) }
                if let h = charging.perHour { sum = sum + h.times(to - from, per: 3_600, decimals: w) }
            case .idle:
                if let idle, let h = idle.perHour {
                    let freeUntil = start + Int64(max(0, idle.graceMinutes)) * 60
                    let billedFrom = max(from, freeUntil)
                    if to > billedFrom { sum = sum + h.times(to - billedFrom, per: 3_600, decimals: w) }
                }
            }
            return sum
        }
        total = total + part(start, switchAt, chargingPrice, idlePrice)
        if let next = nextPeriod, switchAt < end {
            total = total + part(switchAt, end, next.chargingPrice, next.idlePrice)
        }
        return total.rounded(toDecimals: d)
    }
}

/// Prices that take over at a time.
public struct PricePeriod: Hashable, Sendable {
    public var atUnixSeconds: Int64
    public var chargingPrice: ChargingPrice
    public var idlePrice: IdlePrice?

    public init(atUnixSeconds: Int64, chargingPrice: ChargingPrice, idlePrice: IdlePrice? = nil) {
        self.atUnixSeconds = atUnixSeconds
        self.chargingPrice = chargingPrice
        self.idlePrice = idlePrice
    }
}

/// The total of a finished session, and what to show with it (the note's FinalCost).
public struct FinalCost: Hashable, Sendable {
    public var sessionId: String
    /// nil: the backend gave no total (offline, or it did not know it); `text` says where the
    /// driver finds it (OCPP 2.0.1 TotalCostFallbackMessage).
    public var cost: Money?
    public var text: LocalizedText
    /// A URL to show as a QR code (an invoice, a receipt), when the display can.
    public var qrCodeText: String?

    public init(sessionId: String, cost: Money?, text: LocalizedText, qrCodeText: String? = nil) {
        self.sessionId = sessionId
        self.cost = cost
        self.text = text
        self.qrCodeText = qrCodeText
    }
}
