/// The transaction a connector is running, as far as charging profiles care.
public struct ChargingTransactionContext: Hashable, Sendable {
    public var transactionId: String
    /// Unix seconds; relative profiles count from here.
    public var startedAt: Int64

    public init(transactionId: String, startedAt: Int64) {
        self.transactionId = transactionId
        self.startedAt = startedAt
    }
}

public struct CompositeSchedulePeriod: Hashable, Sendable {
    /// Seconds from the composite schedule's start.
    public var startPeriod: Int
    /// In the composite's unit; `nil` = no profile limits this slot (the hardware maximum applies).
    public var limit: Double?
    public var numberPhases: Int?

    public init(startPeriod: Int, limit: Double?, numberPhases: Int?) {
        self.startPeriod = startPeriod
        self.limit = limit
        self.numberPhases = numberPhases
    }
}

public struct CompositeSchedule: Hashable, Sendable {
    public var connectorId: Int
    /// Unix seconds.
    public var scheduleStart: Int64
    public var duration: Int
    public var unit: ChargingRateUnit
    /// Merged: no two neighbours carry the same limit and phases.
    public var periods: [CompositeSchedulePeriod]

    /// The same schedule with unlimited slots given `value` (e.g. the connector's rating), as the
    /// OCPP messages need a number in every period.
    public func filled(with value: Double, numberPhases: Int? = nil) -> CompositeSchedule {
        var copy = self
        copy.periods = []
        for p in periods {
            let q = p.limit == nil ? CompositeSchedulePeriod(startPeriod: p.startPeriod, limit: value, numberPhases: numberPhases) : p
            if let last = copy.periods.last, last.limit == q.limit, last.numberPhases == q.numberPhases { continue }
            copy.periods.append(q)
        }
        return copy
    }
}

/// Combines the installed profiles into what applies when.
///
/// Rules (OCPP 1.6 §3.13 and 2.0.1 K01/K08, the parts both agree on):
/// - Within a purpose, the valid profile with the highest stackLevel that has a period running
///   at an instant wins; when its schedule has ended (duration), the next lower stack level applies.
/// - On a connector with a transaction, a TxProfile (for that transaction, or unbound) overrides
///   TxDefault. TxDefault on the connector overrides TxDefault on connector 0.
/// - The station maximum caps the result everywhere; for connector 0 the composite is the
///   station maximum alone.
/// - Limits are compared in the requested unit (A per phase or W, 230 V nominal × phases).
/// - Recurring schedules repeat every day/week with `startSchedule` fixing the phase, also before
///   it (validFrom bounds them); a `duration` beyond the recurrence is cut at the next repetition.
/// - Relative schedules start at the transaction's start; without a transaction, at the instant
///   asked about (the start of the composite window): what a transaction starting then would get.
public struct CompositeScheduleCalculator: Hashable, Sendable {
    public private(set) var profiles: [InstalledChargingProfile]
    public var nominalPhaseVoltage: Double

    public init(profiles: [InstalledChargingProfile] = [], nominalPhaseVoltage: Double = ChargingLimit.nominalPhaseVoltage) {
        self.profiles = profiles
        self.nominalPhaseVoltage = nominalPhaseVoltage
    }

    /// Installs a profile the way SetChargingProfile does: a profile with the same id, or with
    /// the same connector, purpose and stack level, is replaced. Returns the replaced ids.
    @discardableResult
    public mutating func install(_ installed: InstalledChargingProfile) -> [Int] {
        let p = installed.profile
        let replaced = profiles.filter {
            $0.profile.id == p.id ||
                ($0.connectorId == installed.connectorId && $0.profile.purpose == p.purpose && $0.profile.stackLevel == p.stackLevel)
        }.map(\.profile.id)
        profiles.removeAll { replaced.contains($0.profile.id) }
        profiles.append(installed)
        return replaced
    }

    /// ClearChargingProfile: removes what matches every given criterion. Returns the removed ids.
    @discardableResult
    public mutating func clear(id: Int? = nil, connectorId: Int? = nil, purpose: ChargingProfilePurpose? = nil,
                               stackLevel: Int? = nil) -> [Int] {
        let removed = profiles.filter {
            (id == nil || $0.profile.id == id) && (connectorId == nil || $0.connectorId == connectorId) &&
                (purpose == nil || $0.profile.purpose == purpose) && (stackLevel == nil || $0.profile.stackLevel == stackLevel)
        }.map(\.profile.id)
        profiles.removeAll { removed.contains($0.profile.id) }
        return removed
    }

    // MARK: Evaluation

    /// The limit in force at `time` on `connectorId` (0 = station), in `unit`; `nil` = unlimited.
    public func limit(at time: Int64, connectorId: Int, transaction: ChargingTransactionContext? = nil,
                      unit: ChargingRateUnit = .amps) -> ChargingLimit? {
        let t = Self.clampTime(time)
        return combined(at: t, connectorId: connectorId, transaction: Self.clamp(transaction), relativeBase: t, unit: unit)
    }

    /// Windows longer than this (a leap year) are cut to it; the result's `duration` says so.
    public static let longestComposite = 366 * 86_400

    /// GetCompositeSchedule: what applies on `connectorId` over [start, start + duration).
    public func compositeSchedule(connectorId: Int, start: Int64, duration: Int, unit: ChargingRateUnit = .amps,
                                  transaction: ChargingTransactionContext? = nil) -> CompositeSchedule {
        // Out-of-range requests are clamped rather than trapping: the request comes from the network.
        let start = Self.clampTime(start)
        let transaction = Self.clamp(transaction)
        let span = Int64(min(max(0, duration), Self.longestComposite))
        let end = start + span
        var points: Set<Int64> = [start]
        for p in relevant(connectorId: connectorId) {
            breakpoints(of: p.profile, from: start, to: end, transaction: transaction, relativeBase: start, into: &points)
        }
        var periods: [CompositeSchedulePeriod] = []
        for t in points.sorted() where t >= start && (t < end || t == start) {
            let l = combined(at: t, connectorId: connectorId, transaction: transaction, relativeBase: start, unit: unit)
            let period = CompositeSchedulePeriod(startPeriod: Int(t - start), limit: l?.value, numberPhases: l?.numberPhases)
            if let last = periods.last, last.limit == period.limit, last.numberPhases == period.numberPhases { continue }
            periods.append(period)
        }
        return CompositeSchedule(connectorId: connectorId, scheduleStart: start, duration: Int(span), unit: unit, periods: periods)
    }

    private func relevant(connectorId: Int) -> [InstalledChargingProfile] {
        profiles.filter { $0.connectorId == 0 || $0.connectorId == connectorId }
    }

    private func combined(at t: Int64, connectorId: Int, transaction: ChargingTransactionContext?,
                          relativeBase: Int64, unit: ChargingRateUnit) -> ChargingLimit? {
        func winner(_ candidates: [InstalledChargingProfile]) -> ChargingLimit? {
            var best: (level: Int, limit: ChargingLimit)?
            for c in candidates {
                guard let l = value(of: c.profile, at: t, transaction: transaction, relativeBase: relativeBase) else { continue }
                let lu = l.converted(to: unit, nominalVoltage: nominalPhaseVoltage)
                if let b = best {
                    if c.profile.stackLevel > b.level || (c.profile.stackLevel == b.level && lu.value < b.limit.value) {
                        best = (c.profile.stackLevel, lu)
                    }
                } else {
                    best = (c.profile.stackLevel, lu)
                }
            }
            return best?.limit
        }
        let stationMax = winner(profiles.filter { $0.connectorId == 0 && $0.profile.purpose == .chargingStationMaxProfile })
        guard connectorId != 0 else { return stationMax }
        var session: ChargingLimit?
        if transaction != nil {
            session = winner(profiles.filter { $0.connectorId == connectorId && $0.profile.purpose == .txProfile })
        }
        if session == nil {
            session = winner(profiles.filter { $0.connectorId == connectorId && $0.profile.purpose == .txDefaultProfile })
        }
        if session == nil {
            session = winner(profiles.filter { $0.connectorId == 0 && $0.profile.purpose == .txDefaultProfile })
        }
        switch (stationMax, session) {
        case let (s?, x?): return x.value <= s.value ? x : s
        case let (s?, nil): return s
        case let (nil, x?): return x
        case (nil, nil): return nil
        }
    }

    /// Where the profile's schedule starts for instant `t`, or `nil` when it does not apply.
    private func scheduleStart(of p: ChargingProfile, at t: Int64, transaction: ChargingTransactionContext?,
                               relativeBase: Int64) -> Int64? {
        switch p.kind {
        case .absolute:
            return p.schedule.startSchedule
        case let .recurring(r):
            guard let s = p.schedule.startSchedule else { return nil }
            let period = r.periodSeconds
            return s + Self.floorDiv(t - s, period) * period
        case .relative:
            return transaction?.startedAt ?? relativeBase
        }
    }

    private func value(of p: ChargingProfile, at t: Int64, transaction: ChargingTransactionContext?,
                       relativeBase: Int64) -> ChargingLimit? {
        if let f = p.validFrom, t < f { return nil }
        if let e = p.validTo, t >= e { return nil }
        if p.purpose == .txProfile {
            guard let tx = transaction else { return nil }
            if let bound = p.transactionId, bound != tx.transactionId { return nil }
        }
        guard let start = scheduleStart(of: p, at: t, transaction: transaction, relativeBase: relativeBase) else { return nil }
        let offset = t - start
        if offset < 0 { return nil }
        if let d = p.schedule.duration, offset >= Int64(d) { return nil }
        guard let period = p.schedule.periods.last(where: { Int64($0.startPeriod) <= offset }) else { return nil }
        return ChargingLimit(value: period.limit, unit: p.schedule.unit, numberPhases: period.numberPhases ?? 3)
    }

    private func breakpoints(of p: ChargingProfile, from s: Int64, to e: Int64, transaction: ChargingTransactionContext?,
                             relativeBase: Int64, into points: inout Set<Int64>) {
        func add(_ t: Int64) { if t > s && t < e { points.insert(t) } }
        if let f = p.validFrom { add(f) }
        if let t = p.validTo { add(t) }
        func addSchedule(at base: Int64, cutAt limit: Int64?) {
            for period in p.schedule.periods {
                let t = base + Int64(period.startPeriod)
                if let l = limit, t >= base + l { break }
                add(t)
            }
            if let d = p.schedule.duration { add(base + Int64(d)) }
            if let l = limit { add(base + l) }
        }
        switch p.kind {
        case .absolute:
            if let b = p.schedule.startSchedule { addSchedule(at: b, cutAt: nil) }
        case .relative:
            addSchedule(at: transaction?.startedAt ?? relativeBase, cutAt: nil)
        case let .recurring(r):
            guard let anchor = p.schedule.startSchedule else { return }
            let period = r.periodSeconds
            let first = Self.floorDiv(s - anchor, period)
            let last = Self.floorDiv(e - anchor, period)
            var k = first
            while k <= last {
                addSchedule(at: anchor + k * period, cutAt: period)
                k += 1
            }
        }
    }

    private static func clampTime(_ t: Int64) -> Int64 {
        min(max(t, ChargingProfile.validUnixTimes.lowerBound), ChargingProfile.validUnixTimes.upperBound)
    }

    private static func clamp(_ tx: ChargingTransactionContext?) -> ChargingTransactionContext? {
        tx.map { ChargingTransactionContext(transactionId: $0.transactionId, startedAt: clampTime($0.startedAt)) }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
