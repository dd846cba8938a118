/// The words and numbers on the display, per state and language, fitted to the display.
///
/// Each screen is a list of segments with a priority. They are word-wrapped to the width; short
/// figures (kW, kWh, time) may share a line. When the screen has too few rows, the least
/// important segment goes first (e.g. on a 16×2 display the elapsed time gives way before the
/// energy). Lengths are counted in characters; replacing characters the display cannot draw
/// (é, ü, ß) is the display driver's job.
public enum DisplayContent {
    public static func screen(for state: DisplayState, language: DisplayLanguage, columns: Int, rows: Int) -> [String] {
        layout(segments(for: state, language: language), columns: columns, rows: rows)
    }

    /// How long one page of a long text stays up: time to read two short lines.
    public static let pageSeconds: Int64 = 4

    /// The station screen with a price or cost. A running cost joins the figures; a price text
    /// or a final cost's text takes the lower rows under the status rows (half the screen,
    /// at least one) and, when longer, is shown page by page, `pageSeconds` each, chosen by
    /// `now` (Unix seconds) so the display needs no memory of the page it showed.
    public static func screen(for state: DisplayState, language: DisplayLanguage, columns: Int, rows: Int,
                              price: PriceLine?, at now: Int64) -> [String] {
        var station = segments(for: state, language: language)
        let words = ScreenWords.of(language)
        let text: String?
        switch price {
        case nil:
            return layout(station, columns: columns, rows: rows)
        case let .runningCost(cost)?:
            station.insert(Segment(text: words.cost + " " + cost.formatted(decimalSeparator: words.decimalSeparator),
                                   priority: 6, inline: true), at: min(1, station.count))
            return layout(station, columns: columns, rows: rows)
        case let .price(t)?:
            text = t
        case let .finalCost(total, t)?:
            if let total {
                station.insert(Segment(text: words.total + " " + total.formatted(decimalSeparator: words.decimalSeparator), priority: 6),
                               at: min(1, station.count))
            }
            text = t
        }
        guard let text, !text.isEmpty, rows > 1 else { return layout(station, columns: columns, rows: rows) }
        let statusRows = max(1, rows / 2)
        let status = layout(station, columns: columns, rows: statusRows)
        return status + page(of: text, columns: columns, rows: rows - status.count, at: now)
    }

    /// The page of `text` (wrapped to `columns`) that is up at `now`, `rows` lines.
    public static func page(of text: String, columns: Int, rows: Int, at now: Int64) -> [String] {
        guard rows > 0 else { return [] }
        let lines = wrap(text, columns: columns)
        guard lines.count > rows else { return lines }
        let pages = (lines.count + rows - 1) / rows
        let slot = now >= 0 ? now / pageSeconds : (now - pageSeconds + 1) / pageSeconds
        let index = Int(((slot % Int64(pages)) + Int64(pages)) % Int64(pages))
        return Array(lines[(index * rows)..<min(lines.count, index * rows + rows)])
    }

    // MARK: Layout

    struct Segment {
        var text: String
        /// Higher stays longer.
        var priority: Int
        /// May share a line with a neighbouring inline segment.
        var inline: Bool = false
    }

    static func layout(_ segments: [Segment], columns: Int, rows: Int) -> [String] {
        guard columns > 0, rows > 0 else { return [] }
        var kept = segments.filter { !$0.text.isEmpty }
        while true {
            let lines = pack(kept, columns: columns)
            if lines.count <= rows || kept.count <= 1 { return Array(lines.prefix(rows)) }
            // Drop the least important; among equals, the last one.
            var drop = kept.count - 1
            for i in kept.indices.reversed() where kept[i].priority < kept[drop].priority { drop = i }
            kept.remove(at: drop)
        }
    }

    static func pack(_ segments: [Segment], columns: Int) -> [String] {
        var lines: [String] = []
        var lastWasInline = false
        for s in segments {
            let wrapped = wrap(s.text, columns: columns)
            if s.inline, lastWasInline, wrapped.count == 1, let last = lines.last,
               last.count + 1 + wrapped[0].count <= columns {
                lines[lines.count - 1] = last + " " + wrapped[0]
            } else {
                lines.append(contentsOf: wrapped)
            }
            lastWasInline = s.inline
        }
        return lines
    }

    /// Greedy word wrap; words longer than a line are split; line breaks in the text are kept,
    /// other control characters become spaces (a backend message may carry anything).
    static func wrap(_ text: String, columns: Int) -> [String] {
        guard columns > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(whereSeparator: { $0.isNewline }) {
            let clean = String(paragraph.map { $0.isWhitespace || $0.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) ? " " : $0 })
            lines.append(contentsOf: wrapParagraph(clean, columns: columns))
        }
        return lines
    }

    private static func wrapParagraph(_ text: String, columns: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var w = Substring(word)
            while w.count > columns {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(w.prefix(columns)))
                w = w.dropFirst(columns)
            }
            if w.isEmpty { continue }
            if current.isEmpty {
                current = String(w)
            } else if current.count + 1 + w.count <= columns {
                current += " " + w
            } else {
                lines.append(current)
                current = String(w)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    // MARK: Numbers

    static func decimal(_ x: Double, places: Int, language: DisplayLanguage) -> String {
        let v = x.isFinite ? max(0, x) : 0
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((min(v, 1e12) * Double(scale)).rounded())
        let whole = scaled / scale
        guard places > 0 else { return String(whole) }
        var frac = String(scaled % scale)
        while frac.count < places { frac = "0" + frac }
        return "\(whole)\(language.decimalSeparator)\(frac)"
    }

    static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        let h = s / 3600, m = (s / 60) % 60, sec = s % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(h):\(two(m)):\(two(sec))"
    }

    // MARK: Texts

    static func segments(for state: DisplayState, language l: DisplayLanguage) -> [Segment] {
        let w = ScreenWords.of(l)
        let kWh = { (e: Double) in Segment(text: decimal(e, places: 2, language: l) + " kWh", priority: 4, inline: true) }
        let time = { (s: Int) in Segment(text: duration(s), priority: 2, inline: true) }
        switch state {
        case .idle:
            return [Segment(text: w.ready, priority: 2),
                    Segment(text: w.presentYourCard, priority: 3),
                    Segment(text: w.toStartCharging, priority: 1)]
        case .reserved:
            return [Segment(text: w.reserved, priority: 3),
                    Segment(text: w.presentYourCard, priority: 2)]
        case .authorizing:
            return [Segment(text: w.checkingCard, priority: 3),
                    Segment(text: w.pleaseWait, priority: 1)]
        case .authorizationRejected:
            return [Segment(text: w.cardRejected, priority: 3),
                    Segment(text: w.notAuthorized, priority: 1)]
        case .plugInCable:
            return [Segment(text: w.cardAccepted, priority: 2),
                    Segment(text: w.plugInTheCable, priority: 3)]
        case let .charging(kW, energy, elapsed):
            return [Segment(text: w.charging, priority: 3, inline: true),
                    Segment(text: decimal(kW, places: 1, language: l) + " kW", priority: 4, inline: true),
                    kWh(energy), time(elapsed)]
        case let .suspended(byVehicle, energy, elapsed):
            let title = byVehicle
                ? w.pausedByVehicle
                : w.waitingForPower
            return [Segment(text: title, priority: 5), kWh(energy), time(elapsed)]
        case let .finished(energy, duration):
            return [Segment(text: w.chargingFinished, priority: 5),
                    kWh(energy), time(duration),
                    Segment(text: w.unplugTheCable, priority: 1)]
        case .unavailable:
            return [Segment(text: w.outOfService, priority: 3),
                    Segment(text: w.useAnotherCharger, priority: 1)]
        case let .faulted(fault):
            return [Segment(text: w.fault, priority: 2),
                    Segment(text: faultText(fault, w), priority: 3),
                    Segment(text: w.callService, priority: 1)]
        }
    }

    static func faultText(_ f: DisplayFault, _ w: ScreenWords) -> String {
        switch f {
        case .groundFailure:
            return w.groundFailure
        case .emergencyStop:
            return w.emergencyStop
        case .overTemperature:
            return w.overTemperature
        case .contactorWelded:
            return w.contactorWelded
        case .lockFailure:
            return w.lockFailure
        case .meterFailure:
            return w.meterFailure
        case .readerFailure:
            return w.readerFailure
        case .pilotFault:
            return w.pilotFault
        case .overCurrent:
            return w.overCurrent
        }
    }
}
