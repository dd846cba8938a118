/// A character display of fixed size. Backends: `HD44780Display` (an LCD on a PCF8574 I2C
/// backpack: on a real board through /dev/i2c-N, on the simulated board through the
/// simulator's I2C bus `sim`, address 0x27, which decodes the same bytes), `ConsoleDisplay`
/// (log lines).
public protocol TextDisplay: AnyObject, Sendable {
    var columns: Int { get }
    var rows: Int { get }
    /// Replaces the whole screen. Lines beyond `rows` are dropped, each line is cut to
    /// `columns` and padded with spaces; use `TextLayout.wrap` first to wrap text.
    func show(lines: [String]) throws
    /// Replaces the whole screen with text and, where the display can draw one, a QR code of
    /// `qrCode` (a payment or receipt URL). Character displays show the text only.
    func show(lines: [String], qrCode: String?) throws
    /// Whether `show(lines:qrCode:)` draws the QR code.
    var canShowQRCode: Bool { get }
    /// The text columns left beside a QR code.
    var columnsBesideQRCode: Int { get }
}

extension TextDisplay {
    public func show(lines: [String], qrCode: String?) throws { try show(lines: lines) }
    public var canShowQRCode: Bool { false }
    public var columnsBesideQRCode: Int { columns }
}

public enum DisplayError: Error, Hashable, Sendable, CustomStringConvertible {
    case unsupportedGeometry(columns: Int, rows: Int)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .unsupportedGeometry(c, r):
            return "display size \(c)×\(r) is not supported (16×2, 16×4, 20×2 or 20×4)"
        case let .invalidConfiguration(why): return "display configuration: \(why)"
        }
    }
}

/// Fitting text onto a character grid. Widths count characters (grapheme clusters): each
/// becomes one cell on an HD44780.
public enum TextLayout {
    /// Word-wraps `text` into at most `rows` lines of at most `columns` characters. Explicit
    /// newlines start a new line; runs of spaces collapse at line breaks; a word longer than
    /// a line is split hard. Text beyond `rows` lines is dropped, and the last kept line then
    /// ends in `>` (the HD44780 ROM has no ellipsis) so a reader sees that text was cut.
    public static func wrap(_ text: String, columns: Int, rows: Int) -> [String] {
        guard columns > 0, rows > 0 else { return [] }
        var out: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            let words = paragraph.split(separator: " ", omittingEmptySubsequences: true)
            if words.isEmpty { out.append(""); continue }
            for word in words {
                var w = Substring(word)
                if line.isEmpty {
                    // fallthrough to placing the word at the line start
                } else if line.count + 1 + w.count <= columns {
                    line += " " + w
                    continue
                } else {
                    out.append(line)
                    line = ""
                }
                while w.count > columns {
                    out.append(String(w.prefix(columns)))
                    w = w.dropFirst(columns)
                }
                line = String(w)
            }
            out.append(line)
        }
        if out.count > rows {
            out = Array(out.prefix(rows))
            var last = out[rows - 1]
            if last.count >= columns { last = String(last.prefix(columns - 1)) }
            out[rows - 1] = last + ">"
        }
        return out
    }

    /// Exactly `rows` lines of exactly `columns` characters: cut, padded with spaces, missing
    /// lines blank.
    public static func fit(_ lines: [String], columns: Int, rows: Int) -> [String] {
        (0..<max(0, rows)).map { i in
            let line = i < lines.count ? String(lines[i].prefix(columns)) : ""
            return line + String(repeating: " ", count: max(0, columns - line.count))
        }
    }
}

/// A display that writes each screen to a log sink, framed, as one multi-line string.
public final class ConsoleDisplay: TextDisplay {
    public let columns: Int
    public let rows: Int
    private let sink: @Sendable (String) -> Void

    public init(columns: Int = 20, rows: Int = 4, sink: @escaping @Sendable (String) -> Void) throws(DisplayError) {
        guard columns > 0, rows > 0 else { throw .unsupportedGeometry(columns: columns, rows: rows) }
        self.columns = columns
        self.rows = rows
        self.sink = sink
    }

    public func show(lines: [String]) throws {
        let border = "+" + String(repeating: "-", count: columns) + "+"
        let body = TextLayout.fit(lines, columns: columns, rows: rows).map { "|\($0)|" }
        sink(([border] + body + [border]).joined(separator: "\n"))
    }
}
