/// Backend display messages (OCPP 2.0.1 SetDisplayMessage, 1.6 DataTransfer-based variants).

public enum DisplayMessagePriority: String, Hashable, Sendable, CaseIterable {
    /// Shown alone, in front of everything; the newest one wins; nothing of the station's own
    /// replaces it (OCPP 2.0.1 AlwaysFront).
    case alwaysFront
    /// Shown in front of the normal cycle: they rotate with the station's own screen and the
    /// normal-cycle messages wait until they are gone (OCPP 2.0.1 InFront).
    case inFront
    /// Rotates with the station's own screen (OCPP 2.0.1 NormalCycle).
    case normalCycle
}

/// The station states a message can be limited to (OCPP 2.0.1 MessageStateEnumType + 2.1's Suspended).
public enum DisplayMessageStateFilter: String, Hashable, Sendable, CaseIterable {
    case idle, charging, suspended, faulted, unavailable
}

public struct DisplayMessage: Hashable, Sendable {
    public var id: Int
    public var priority: DisplayMessagePriority
    public var text: String
    /// Unix seconds: shown from `startsAt` (inclusive) until `endsAt` (exclusive); `nil` = open.
    public var startsAt: Int64?
    public var endsAt: Int64?
    /// Shown only in these states; empty = in every state.
    public var states: Set<DisplayMessageStateFilter>
    /// Shown only while this transaction runs.
    public var transactionId: String?
    /// The text's language (an IETF tag such as `de` or `fr-BE`); nil: for every reader.
    public var language: String?

    public init(id: Int, priority: DisplayMessagePriority, text: String, startsAt: Int64? = nil, endsAt: Int64? = nil,
                states: Set<DisplayMessageStateFilter> = [], transactionId: String? = nil, language: String? = nil) {
        self.id = id
        self.priority = priority
        self.text = text
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.states = states
        self.transactionId = transactionId
        self.language = language
    }

    public func isShown(at now: Int64, state: DisplayMessageStateFilter, transactionId current: String?) -> Bool {
        if let s = startsAt, now < s { return false }
        if let e = endsAt, now >= e { return false }
        if !states.isEmpty && !states.contains(state) { return false }
        if let bound = transactionId, bound != current { return false }
        return true
    }
}

/// Decides what the display shows at an instant. Pure: the caller passes the time, the state
/// and the running transaction; the same inputs give the same frame.
///
/// Rotation: the screens to cycle (station screen first, then messages by id) each get
/// `cycleSeconds`; which one is up is `(now / cycleSeconds) mod count`, so the display needs no
/// memory of what it showed before and a restart does not reshuffle it.
public struct DisplayMessageScheduler: Hashable, Sendable {
    public var language: DisplayLanguage
    public var columns: Int
    public var rows: Int
    public var cycleSeconds: Int
    public private(set) var messages: [DisplayMessage] = []
    /// Order of arrival: the newest AlwaysFront message wins.
    private var arrival: [Int: Int] = [:]
    private var arrivals = 0

    public init(language: DisplayLanguage = .en, columns: Int = 20, rows: Int = 4, cycleSeconds: Int = 8) {
        self.language = language
        self.columns = columns
        self.rows = rows
        self.cycleSeconds = cycleSeconds
    }

    /// Adds a message, or replaces the one with the same id.
    public mutating func set(_ message: DisplayMessage) {
        messages.removeAll { $0.id == message.id }
        messages.append(message)
        messages.sort { $0.id < $1.id }
        arrivals += 1
        arrival[message.id] = arrivals
    }

    /// Removes the message with `id`; false when there was none.
    @discardableResult
    public mutating func clear(id: Int) -> Bool {
        let had = messages.contains { $0.id == id }
        messages.removeAll { $0.id == id }
        arrival[id] = nil
        return had
    }

    public mutating func clearAll() {
        messages.removeAll()
        arrival.removeAll()
    }

    /// Drops messages whose window has ended; returns their ids (to report or unpersist).
    @discardableResult
    public mutating func removeExpired(at now: Int64) -> [Int] {
        let gone = messages.filter { m in m.endsAt.map { now >= $0 } ?? false }.map(\.id)
        for id in gone { _ = clear(id: id) }
        return gone
    }

    /// What is up at `now` (unix seconds): the message id shown, or `nil` for the station screen.
    /// `languages`: the reader's languages, best first (the driver's, then the station's); the
    /// station's screen language is tried after them.
    public func current(at now: Int64, state: DisplayState, transactionId: String?, languages: [String] = []) -> DisplayMessage? {
        let filter = state.messageState
        let shown = Self.inBestLanguage(messages.filter { $0.isShown(at: now, state: filter, transactionId: transactionId) },
                                        preferring: languages + [language.rawValue])
        if let front = shown.filter({ $0.priority == .alwaysFront }).max(by: { (arrival[$0.id] ?? 0) < (arrival[$1.id] ?? 0) }) {
            return front
        }
        let inFront = shown.filter { $0.priority == .inFront }
        let cycle: [DisplayMessage?] = [nil] + (inFront.isEmpty ? shown.filter { $0.priority == .normalCycle } : inFront)
        let slot = Self.floorDiv(now, Int64(max(1, cycleSeconds)))
        let index = Int(((slot % Int64(cycle.count)) + Int64(cycle.count)) % Int64(cycle.count))
        return cycle[index]
    }

    /// The lines to show at `now`. `language` overrides the station's (a driver's language);
    /// `price` adds the price or cost the station chose for the state.
    ///
    /// On a display of three rows or more, a NormalCycle or InFront message keeps the station's
    /// status line (what matters most of its screen: kW and kWh while charging) on the top row
    /// and takes the rows below; an AlwaysFront message, or any message on a one- or two-row
    /// display, has the whole screen. A message that does not fit is shown page by page
    /// (`DisplayContent.pageSeconds` each).
    /// `languages` chooses among messages in several languages (see `inBestLanguage`).
    public func frame(at now: Int64, state: DisplayState, transactionId: String?,
                      language: DisplayLanguage? = nil, languages: [String] = [], price: PriceLine? = nil) -> [String] {
        let lang = language ?? self.language
        if let m = current(at: now, state: state, transactionId: transactionId, languages: languages) {
            if m.priority == .alwaysFront || rows < 3 {
                return DisplayContent.page(of: m.text, columns: columns, rows: rows, at: now)
            }
            let status = DisplayContent.screen(for: state, language: lang, columns: columns, rows: 1, price: price, at: now)
            return status + DisplayContent.page(of: m.text, columns: columns, rows: rows - status.count, at: now)
        }
        return DisplayContent.screen(for: state, language: lang, columns: columns, rows: rows, price: price, at: now)
    }

    /// A CSMS that serves drivers of several languages sends the same text once per language, as
    /// separate messages. Per priority, of the messages that carry a language only those in the
    /// best language of `languages` are kept (tags compare by their primary subtag: a `de-CH`
    /// reader reads `de`); messages without a language are always kept. When no message of a
    /// priority is in any of the languages, all of them are kept: a driver rather sees a text in
    /// another language than none.
    static func inBestLanguage(_ messages: [DisplayMessage], preferring languages: [String]) -> [DisplayMessage] {
        guard messages.contains(where: { $0.language != nil }) else { return messages }
        let wanted = languages.map { DisplayLanguage.primarySubtag($0.lowercased()) }.filter { !$0.isEmpty }
        func primary(_ m: DisplayMessage) -> String? { m.language.map { DisplayLanguage.primarySubtag($0.lowercased()) } }
        var kept: [DisplayMessage] = []
        for priority in DisplayMessagePriority.allCases {
            let group = messages.filter { $0.priority == priority }
            let languagesHere = Set(group.compactMap(primary))
            guard let best = wanted.first(where: languagesHere.contains) else {
                kept += group
                continue
            }
            kept += group.filter { m in primary(m).map { $0 == best } ?? true }
        }
        return kept.sorted { $0.id < $1.id }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
