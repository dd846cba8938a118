/// A text a backend sent in several languages: one per IETF language tag (RFC 5646, `de`,
/// `nl-BE`), and a text without a language for when none matches.
public struct LocalizedText: Hashable, Sendable {
    /// Shown when no language matches.
    public var text: String
    /// Language tag (lowercased) → text.
    public var translations: [String: String]

    public init(_ text: String, translations: [String: String] = [:]) {
        self.text = text
        self.translations = Dictionary(translations.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// The text for the first of `languages` it has (the driver's, then the station's), else
    /// the untagged one. A tag matches exactly first, then by its primary language (`de-AT`
    /// takes `de`, `de` takes `de-CH`).
    public func text(preferring languages: [String]) -> String {
        for wanted in languages.map({ $0.lowercased() }) where !wanted.isEmpty {
            if let exact = translations[wanted] { return exact }
            let primary = DisplayLanguage.primarySubtag(wanted)
            if let p = translations[primary] { return p }
            if let any = translations.keys.sorted().first(where: { DisplayLanguage.primarySubtag($0) == primary }),
               let t = translations[any] { return t }
        }
        return text
    }
}

extension DisplayLanguage {
    /// The screen language for an IETF tag (`de-DE` → `.de`); nil for a language the station
    /// has no screens in.
    public init?(tag: String) {
        self.init(rawValue: Self.primarySubtag(tag.lowercased()))
    }

    static func primarySubtag(_ tag: String) -> String {
        String(tag.split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? "")
    }

    /// The character between whole and fractional digits in this language.
    public var decimalSeparator: Character { ScreenWords.of(self).decimalSeparator }
}
