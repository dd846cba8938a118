/// RFC 3339 UTC timestamps of OCPP messages (both versions), from and to Unix milliseconds
/// (no Foundation).
public enum OCPPTimestamp {
    public static func string(unixMs: UInt64) -> String {
        RFC3339.string(unixSeconds: Int64(unixMs / 1_000), milliseconds: Int(unixMs % 1_000))
    }

    /// Reading the CSMS's RFC 3339 timestamps (expiry dates of reservations and list entries).
    /// Unix milliseconds of `2026-11-24T23:45:00(.123)?(Z|±hh:mm)`; nil when it is not one.
    public static func unixMs(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue }
        guard let year = number(0, 4), at(4, "-"), let month = number(5, 2), at(7, "-"), let day = number(8, 2),
              at(10, "T") || at(10, "t") || at(10, " "), let hour = number(11, 2), at(13, ":"), let minute = number(14, 2),
              at(16, ":"), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if at(i, ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        var offsetSeconds = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            let sign = at(i, "-") ? -1 : 1
            guard let oh = number(i + 1, 2), at(i + 3, ":"), let om = number(i + 4, 2) else { return nil }
            offsetSeconds = sign * (oh * 3_600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Howard Hinnant's days-from-civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        guard seconds >= 0 else { return nil }
        return UInt64(seconds) * 1_000 + UInt64(millis)
    }
}
