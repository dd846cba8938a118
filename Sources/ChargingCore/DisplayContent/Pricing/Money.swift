/// An amount of money as an integer count of minor units with a fixed number of decimals
/// (`minorUnits: 123, decimals: 2` is 1.23). Costs are added and multiplied in integers only:
/// a floating-point sum drifts by fractions of a cent, and a regulated price display may not.
///
/// Prices (per kWh, per hour) come with more decimals than costs (0.123 $/kWh); a cost computed
/// from them is rounded half away from zero to the cost's decimals once, at the end.
public struct Money: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64
    /// 0…9.
    public var decimals: Int

    public static let maxDecimals = 9

    public init(minorUnits: Int64, decimals: Int) {
        self.minorUnits = minorUnits
        self.decimals = min(max(0, decimals), Self.maxDecimals)
    }

    public static func zero(decimals: Int) -> Money { Money(minorUnits: 0, decimals: decimals) }

    /// A decimal literal such as `"12"`, `"0.123"` or `"-1.5"` (no exponent, no grouping).
    /// Nil when it is not one, or has more decimals than `decimals` allows exactly (no silent
    /// rounding of what a backend sent), or does not fit.
    public init?(decimalText text: String, decimals: Int) {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count > decimals, fraction.last == "0" { fraction = fraction.dropLast() }
        guard fraction.count <= decimals, decimals <= Self.maxDecimals else { return nil }
        let padded = String(fraction) + String(repeating: "0", count: decimals - fraction.count)
        guard let w = Int64(whole), let f = Int64(padded.isEmpty ? "0" : padded) else { return nil }
        let (scaled, o1) = w.multipliedReportingOverflow(by: Self.power(decimals))
        let (sum, o2) = scaled.addingReportingOverflow(f)
        guard !o1, !o2 else { return nil }
        self.init(minorUnits: negative ? -sum : sum, decimals: decimals)
    }

    /// A number as JSON carries it (OCPP's "decimal"), rounded once to `decimals`.
    /// JSON numbers arrive as binary doubles; this is the single conversion, never a sum.
    public init?(_ value: Double, decimals: Int) {
        guard value.isFinite, abs(value) < 1e12, (0...Self.maxDecimals).contains(decimals) else { return nil }
        let scaled = (value * Double(Self.power(decimals))).rounded(.toNearestOrAwayFromZero)
        self.init(minorUnits: Int64(scaled), decimals: decimals)
    }

    static func power(_ n: Int) -> Int64 {
        var p: Int64 = 1
        for _ in 0..<max(0, n) { p *= 10 }
        return p
    }

    /// The same amount with `decimals`, rounded half away from zero when decimals are dropped.
    public func rounded(toDecimals target: Int) -> Money {
        let t = min(max(0, target), Self.maxDecimals)
        if t >= decimals {
            return Money(minorUnits: minorUnits.multipliedReportingOverflow(by: Self.power(t - decimals)).partialValue, decimals: t)
        }
        return Money(minorUnits: Self.divideRounded(minorUnits, Self.power(decimals - t)), decimals: t)
    }

    /// `a / b` rounded half away from zero (b > 0).
    static func divideRounded(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b, r = a % b
        if abs(r) * 2 >= b { return a < 0 ? q - 1 : q + 1 }
        return q
    }

    /// The sum, in the finer of the two decimals.
    public static func + (lhs: Money, rhs: Money) -> Money {
        let d = max(lhs.decimals, rhs.decimals)
        let (s, o) = lhs.rounded(toDecimals: d).minorUnits.addingReportingOverflow(rhs.rounded(toDecimals: d).minorUnits)
        return Money(minorUnits: o ? (s < 0 ? .max : .min) : s, decimals: d)
    }

    /// This price (per unit) times `numerator / denominator` units, in `decimals`:
    /// a kWh price times Wh/1000, an hour price times seconds/3600.
    public func times(_ numerator: Int64, per denominator: Int64, decimals target: Int) -> Money {
        let t = min(max(0, target), Self.maxDecimals)
        guard denominator > 0 else { return .zero(decimals: t) }
        var count = numerator.magnitude
        var scale = UInt64(denominator)
        if t >= decimals {
            let (c, o) = count.multipliedReportingOverflow(by: UInt64(Self.power(t - decimals)))
            guard !o else { return Money(minorUnits: .max, decimals: t) }
            count = c
        } else {
            let (sc, o) = scale.multipliedReportingOverflow(by: UInt64(Self.power(decimals - t)))
            guard !o else { return .zero(decimals: t) }
            scale = sc
        }
        // Full-width product: a price of 10^9 minor units times 10^9 Wh does not overflow.
        let product = minorUnits.magnitude.multipliedFullWidth(by: count)
        guard product.high < scale else { return Money(minorUnits: .max, decimals: t) }
        var (q, r) = scale.dividingFullWidth(product)
        if r >= scale - r { q += 1 }
        let magnitude = Int64(clamping: q)
        let negative = (minorUnits < 0) != (numerator < 0)
        return Money(minorUnits: negative ? -magnitude : magnitude, decimals: t)
    }

    /// Digits with the language's decimal separator: `1.23` (en), `1,23` (de, fr, nl).
    public func formatted(decimalSeparator: Character = ".") -> String {
        let p = Self.power(decimals)
        let magnitude = minorUnits.magnitude
        let whole = magnitude / UInt64(p)
        var text = (minorUnits < 0 ? "-" : "") + String(whole)
        if decimals > 0 {
            let frac = String(magnitude % UInt64(p))
            text += String(decimalSeparator) + String(repeating: "0", count: decimals - frac.count) + frac
        }
        return text
    }

    public var description: String { formatted() }

    public static func < (lhs: Money, rhs: Money) -> Bool {
        let d = max(lhs.decimals, rhs.decimals)
        return lhs.rounded(toDecimals: d).minorUnits < rhs.rounded(toDecimals: d).minorUnits
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) && isASCII }
}
