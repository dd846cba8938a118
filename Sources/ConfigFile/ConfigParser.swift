/// A parser for the YAML subset board files and meter maps are written in.
///
/// Supported: block mappings and sequences by indentation (spaces only), `- ` items (also
/// `- key: value` starting a mapping), plain, 'single' and "double" quoted scalars, `#`
/// comments, one-line flow mappings `{a: 1, b: x}` and flow sequences `[1, 2]` (nestable),
/// one optional leading `---`. Everything else YAML has (anchors, aliases, tags, block
/// scalars, several documents, multi-line flow collections, keys that are not scalars) is
/// rejected with a message saying it is not supported, never silently misread.
///
/// Written here rather than taken from a YAML library because those pull in full Foundation,
/// which the firmware does not link.
public enum ConfigParser {
    public static func parse(_ text: String, file: String) throws(ConfigFileError) -> ConfigNode {
        var p = BlockParser(file: file)
        // Editors on Windows may save a byte-order mark; it is not part of the first key.
        try p.split(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        return try p.parseDocument()
    }
}

private struct Line {
    var number: Int
    /// Column (0-based) of the first content character.
    var indent: Int
    /// Content without indentation, trailing comment and trailing spaces.
    var text: [Character]
}

/// How deep collections may nest, block and flow together. Board and station files nest about 5
/// deep; the limit keeps a hostile or broken file (`[[[[…` or `- - - …`) from exhausting the
/// stack (found by fuzzing the board loader).
let maximumNesting = 64

private struct BlockParser {
    let file: String
    var lines: [Line] = []
    var index = 0
    var depth = 0

    init(file: String) { self.file = file }

    func fail(_ line: Int, _ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: line, field: "", message)
    }

    mutating func split(_ text: String) throws(ConfigFileError) {
        var number = 0
        var sawContent = false
        var sawDocumentStart = false
        // "\r\n" is one Character in Swift, so it has to be named as a separator of its own.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            var chars = Array(raw)
            if chars.last == "\r" { chars.removeLast() }
            var indent = 0
            while indent < chars.count, chars[indent] == " " { indent += 1 }
            if indent < chars.count, chars[indent] == "\t" {
                throw fail(number, "tab in indentation: indent with spaces only")
            }
            let content = try stripComment(Array(chars[indent...]), line: number)
            if content.isEmpty { continue }
            if indent == 0, content == ["-", "-", "-"] || (content.count > 3 && Array(content[0..<4]) == ["-", "-", "-", " "]) {
                if sawContent || sawDocumentStart || content.count > 3 {
                    throw fail(number, "several documents in one file are not supported (one board per file)")
                }
                sawDocumentStart = true
                continue
            }
            if indent == 0, content == [".", ".", "."] {
                throw fail(number, "document end marker '...' is not supported")
            }
            if indent == 0, content.first == "%" {
                throw fail(number, "YAML directives (%) are not supported")
            }
            sawContent = true
            lines.append(Line(number: number, indent: indent, text: content))
        }
    }

    /// Drops a `#` comment (one that starts the line or follows a space, outside quotes) and
    /// trailing whitespace.
    func stripComment(_ chars: [Character], line: Int) throws(ConfigFileError) -> [Character] {
        var quote: Character? = nil
        var i = 0
        var end = chars.count
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if q == "\"", c == "\\" { i += 2; continue }
                if c == q {
                    if q == "'", i + 1 < chars.count, chars[i + 1] == "'" { i += 2; continue }
                    quote = nil
                }
            } else if c == "#", i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t" {
                end = i
                break
            } else if c == "\"" || c == "'" {
                let prev: Character = i == 0 ? " " : chars[i - 1]
                if " \t[{,:-".contains(prev) { quote = c }
            }
            i += 1
        }
        var out = Array(chars[0..<end])
        while let l = out.last, l == " " || l == "\t" { out.removeLast() }
        return out
    }

    mutating func parseDocument() throws(ConfigFileError) -> ConfigNode {
        guard let first = lines.first else { return ConfigNode(.null, line: 1, column: 1) }
        if first.indent != 0 {
            throw fail(first.number, "the top level must start in column 1")
        }
        let node = try parseBlock(indent: 0)
        if index < lines.count {
            throw fail(lines[index].number, "unexpected indentation or content after the document")
        }
        return node
    }

    static func isSequenceItem(_ t: [Character]) -> Bool { t.first == "-" && (t.count == 1 || t[1] == " ") }

    /// The node whose first line is `lines[index]`, at exactly `indent`.
    mutating func parseBlock(indent: Int) throws(ConfigFileError) -> ConfigNode {
        let line = lines[index]
        depth += 1
        defer { depth -= 1 }
        guard depth <= maximumNesting else { throw fail(line.number, "nested deeper than \(maximumNesting) levels") }
        if Self.isSequenceItem(line.text) { return try parseSequence(indent: indent) }
        if try splitKey(line) != nil { return try parseMapping(indent: indent) }
        // A lone scalar or flow collection as the whole block.
        index += 1
        var inline = InlineParser(text: line.text, line: line.number, columnBase: line.indent, file: file, depth: depth)
        return try inline.parseWholeValue()
    }

    mutating func parseSequence(indent: Int) throws(ConfigFileError) -> ConfigNode {
        let start = lines[index]
        var items: [ConfigNode] = []
        while index < lines.count, lines[index].indent == indent, Self.isSequenceItem(lines[index].text) {
            let line = lines[index]
            var rest = Array(line.text.dropFirst())
            var col = indent + 1
            while rest.first == " " { rest.removeFirst(); col += 1 }
            if rest.isEmpty {
                index += 1
                items.append(try parseNested(after: line, parentIndent: indent, allowSameIndentSequence: false))
            } else {
                // `- key: value` or `- - x`: the rest of the line starts a block at its own column.
                lines[index] = Line(number: line.number, indent: col, text: rest)
                let node = try parseBlock(indent: col)
                items.append(node)
            }
        }
        if index < lines.count, lines[index].indent > indent {
            throw fail(lines[index].number, "unexpected indentation (expected a '- ' item at column \(indent + 1))")
        }
        return ConfigNode(.sequence(items), line: start.number, column: indent + 1)
    }

    mutating func parseMapping(indent: Int) throws(ConfigFileError) -> ConfigNode {
        let start = lines[index]
        var entries: [ConfigNode.Entry] = []
        while index < lines.count, lines[index].indent == indent {
            let line = lines[index]
            if Self.isSequenceItem(line.text) {
                throw fail(line.number, "a '- ' list item where a 'key: value' entry was expected")
            }
            guard let (key, rest, restColumn) = try splitKey(line) else {
                throw fail(line.number, "expected 'key: value', found \"\(String(line.text))\"")
            }
            if let first = entries.first(where: { $0.key == key }) {
                throw fail(line.number, "duplicate key '\(key)' (first given on line \(first.keyLine))")
            }
            let value: ConfigNode
            if rest.isEmpty {
                index += 1
                value = try parseNested(after: line, parentIndent: indent, allowSameIndentSequence: true)
            } else {
                index += 1
                var inline = InlineParser(text: rest, line: line.number, columnBase: restColumn, file: file, depth: depth)
                value = try inline.parseWholeValue()
                if index < lines.count, lines[index].indent > indent {
                    throw fail(lines[index].number,
                               "unexpected indentation: '\(key)' already has a value on line \(line.number)"
                               + " (multi-line scalars are not supported)")
                }
            }
            entries.append(.init(key: key, keyLine: line.number, keyColumn: indent + 1, value: value))
        }
        if index < lines.count, lines[index].indent > indent {
            throw fail(lines[index].number, "unexpected indentation")
        }
        return ConfigNode(.mapping(entries), line: start.number, column: indent + 1)
    }

    /// The value of a `key:` or `-` that ended its line: a deeper block, a same-indent `- `
    /// list under a key, or null.
    mutating func parseNested(after line: Line, parentIndent: Int, allowSameIndentSequence: Bool) throws(ConfigFileError) -> ConfigNode {
        guard index < lines.count else { return ConfigNode(.null, line: line.number, column: line.indent + line.text.count + 1) }
        let next = lines[index]
        if next.indent > parentIndent { return try parseBlock(indent: next.indent) }
        if allowSameIndentSequence, next.indent == parentIndent, Self.isSequenceItem(next.text) {
            return try parseSequence(indent: parentIndent)
        }
        return ConfigNode(.null, line: line.number, column: line.indent + line.text.count + 1)
    }

    /// Splits `key: rest` when the line is a mapping entry. Returns nil for a line that is not
    /// one (a scalar, a flow collection).
    func splitKey(_ line: Line) throws(ConfigFileError) -> (String, [Character], Int)? {
        let t = line.text
        var keyEnd: Int
        var key: String
        if t.first == "\"" || t.first == "'" {
            var inline = InlineParser(text: t, line: line.number, columnBase: line.indent, file: file, depth: depth)
            let node = try inline.parseQuoted()
            keyEnd = inline.pos
            while keyEnd < t.count, t[keyEnd] == " " { keyEnd += 1 }
            guard keyEnd < t.count, t[keyEnd] == ":", keyEnd + 1 == t.count || t[keyEnd + 1] == " " else {
                return nil
            }
            key = node.scalarText ?? ""
        } else {
            if t.first == "[" || t.first == "{" {
                return nil
            }
            if t.first == "?" && (t.count == 1 || t[1] == " ") {
                throw fail(line.number, "complex mapping keys ('? ') are not supported")
            }
            var i = 0
            var found: Int? = nil
            while i < t.count {
                if t[i] == ":", i + 1 == t.count || t[i + 1] == " " { found = i; break }
                i += 1
            }
            guard let f = found else { return nil }
            keyEnd = f
            key = String(t[0..<f])
            while key.last == " " { key.removeLast() }
            if key.isEmpty { throw fail(line.number, "empty key before ':'") }
            if let c = key.first, "&*!|>".contains(c) {
                throw fail(line.number, Self.unsupported(c))
            }
        }
        var restStart = keyEnd + 1
        while restStart < t.count, t[restStart] == " " { restStart += 1 }
        return (key, Array(t[restStart...]), line.indent + restStart)
    }

    static func unsupported(_ c: Character) -> String {
        switch c {
        case "&": return "anchors (&) are not supported"
        case "*": return "aliases (*) are not supported"
        case "!": return "tags (!) are not supported"
        case "|", ">": return "block scalars (| and >) are not supported: write the text on one line"
        default: return "'\(c)' is not supported here"
        }
    }
}

/// Parses the one-line part of a value: a scalar or a flow collection.
private struct InlineParser {
    let text: [Character]
    let line: Int
    let columnBase: Int
    let file: String
    var pos = 0
    /// Collections open around the current position, the enclosing block levels included.
    var depth: Int

    init(text: [Character], line: Int, columnBase: Int, file: String, depth: Int = 0) {
        self.text = text
        self.line = line
        self.columnBase = columnBase
        self.file = file
        self.depth = depth
    }

    func fail(_ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: line, field: "", message)
    }

    var column: Int { columnBase + pos + 1 }
    var atEnd: Bool { pos >= text.count }
    var current: Character? { pos < text.count ? text[pos] : nil }

    mutating func skipSpaces() { while pos < text.count, text[pos] == " " { pos += 1 } }

    mutating func parseWholeValue() throws(ConfigFileError) -> ConfigNode {
        let node = try parseValue(inFlow: false)
        skipSpaces()
        // A comment the line-level scan kept because an apostrophe looked like a quote.
        if current == "#", pos > 0, text[pos - 1] == " " { return node }
        if !atEnd {
            throw fail("unexpected \"\(String(text[pos...]))\" after the value")
        }
        return node
    }

    mutating func parseValue(inFlow: Bool) throws(ConfigFileError) -> ConfigNode {
        skipSpaces()
        guard let c = current else { return ConfigNode(.null, line: line, column: column) }
        if c == "{" || c == "[" {
            depth += 1
            defer { depth -= 1 }
            guard depth <= maximumNesting else { throw fail("nested deeper than \(maximumNesting) levels") }
            return c == "{" ? try parseFlowMapping() : try parseFlowSequence()
        }
        switch c {
        case "\"", "'": return try parseQuoted()
        case "&", "*", "!", "|", ">": throw fail(BlockParser.unsupported(c))
        case "@", "`": throw fail("a plain value cannot start with '\(c)': quote it")
        default: return try parsePlain(inFlow: inFlow, isKey: false)
        }
    }

    mutating func parseQuoted() throws(ConfigFileError) -> ConfigNode {
        let startColumn = column
        let q = text[pos]
        pos += 1
        var out = ""
        while true {
            guard let c = current else { throw fail("unterminated \(q == "\"" ? "double" : "single")-quoted string (quoted strings must end on the same line)") }
            pos += 1
            if c == q {
                if q == "'", current == "'" { out.append("'"); pos += 1; continue }
                break
            }
            if q == "\"", c == "\\" {
                guard let e = current else { throw fail("unterminated escape in double-quoted string") }
                pos += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\": out.append("\\")
                case "\"": out.append("\"")
                case "/": out.append("/")
                case " ": out.append(" ")
                case "x", "u":
                    let n = e == "x" ? 2 : 4
                    guard pos + n <= text.count, let v = UInt32(String(text[pos..<pos + n]), radix: 16),
                          let scalar = Unicode.Scalar(v) else {
                        throw fail("bad \\\(e) escape in double-quoted string")
                    }
                    out.unicodeScalars.append(scalar)
                    pos += n
                default: throw fail("unknown escape \\\(e) in double-quoted string")
                }
                continue
            }
            out.append(c)
        }
        return ConfigNode(.scalar(out, q == "\"" ? .doubleQuoted : .singleQuoted), line: line, column: startColumn)
    }

    mutating func parsePlain(inFlow: Bool, isKey: Bool) throws(ConfigFileError) -> ConfigNode {
        let startColumn = column
        let start = pos
        while let c = current {
            if inFlow, c == "," || c == "}" || c == "]" || c == "{" || c == "[" { break }
            if c == ":" {
                let next: Character? = pos + 1 < text.count ? text[pos + 1] : nil
                if next == nil || next == " " || (inFlow && (next == "," || next == "}" || next == "]")) {
                    if isKey { break }
                    throw fail("':' followed by a space inside a value: quote the value, or use a flow mapping {key: value}")
                }
            }
            if c == "#", pos > start, text[pos - 1] == " " { break }
            pos += 1
        }
        var s = String(text[start..<pos])
        while s.last == " " { s.removeLast() }
        if s.isEmpty { return ConfigNode(.null, line: line, column: startColumn) }
        return ConfigNode(.scalar(s, .plain), line: line, column: startColumn)
    }

    mutating func parseFlowMapping() throws(ConfigFileError) -> ConfigNode {
        let startColumn = column
        pos += 1
        var entries: [ConfigNode.Entry] = []
        skipSpaces()
        if current == "}" { pos += 1; return ConfigNode(.mapping([]), line: line, column: startColumn) }
        while true {
            skipSpaces()
            guard let c = current else { throw fail("'{' not closed on this line (flow mappings must fit on one line)") }
            let keyColumn = column
            let keyNode: ConfigNode
            if c == "\"" || c == "'" { keyNode = try parseQuoted() }
            else if c == "{" || c == "[" { throw fail("mapping keys must be scalars") }
            else { keyNode = try parsePlain(inFlow: true, isKey: true) }
            guard let key = keyNode.scalarText else { throw fail("empty key in flow mapping") }
            if entries.contains(where: { $0.key == key }) {
                throw fail("duplicate key '\(key)'")
            }
            skipSpaces()
            var value = ConfigNode(.null, line: line, column: column)
            if current == ":" {
                pos += 1
                skipSpaces()
                if current != "," && current != "}" { value = try parseValue(inFlow: true) }
            }
            entries.append(.init(key: key, keyLine: line, keyColumn: keyColumn, value: value))
            skipSpaces()
            switch current {
            case ",":
                pos += 1
                skipSpaces()
                if current == "}" { pos += 1; return ConfigNode(.mapping(entries), line: line, column: startColumn) }
            case "}":
                pos += 1
                return ConfigNode(.mapping(entries), line: line, column: startColumn)
            case nil: throw fail("'{' not closed on this line (flow mappings must fit on one line)")
            case let .some(x): throw fail("expected ',' or '}' in flow mapping, found '\(x)'")
            }
        }
    }

    mutating func parseFlowSequence() throws(ConfigFileError) -> ConfigNode {
        let startColumn = column
        pos += 1
        var items: [ConfigNode] = []
        skipSpaces()
        if current == "]" { pos += 1; return ConfigNode(.sequence([]), line: line, column: startColumn) }
        while true {
            skipSpaces()
            guard current != nil else { throw fail("'[' not closed on this line (flow lists must fit on one line)") }
            items.append(try parseValue(inFlow: true))
            skipSpaces()
            switch current {
            case ",":
                pos += 1
                skipSpaces()
                if current == "]" { pos += 1; return ConfigNode(.sequence(items), line: line, column: startColumn) }
            case "]":
                pos += 1
                return ConfigNode(.sequence(items), line: line, column: startColumn)
            case nil: throw fail("'[' not closed on this line (flow lists must fit on one line)")
            case let .some(x): throw fail("expected ',' or ']' in flow list, found '\(x)'")
            }
        }
    }
}
