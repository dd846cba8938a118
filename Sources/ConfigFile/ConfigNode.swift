/// A node of a parsed configuration file (the YAML subset our board files and meter maps use).
/// Every node remembers where it was written so that a validation error can point at the
/// exact line a hardware engineer has to fix.
public struct ConfigNode: Sendable, Equatable {
    public enum ScalarStyle: Sendable, Equatable { case plain, singleQuoted, doubleQuoted }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var keyLine: Int
        public var keyColumn: Int
        public var value: ConfigNode
    }

    public enum Kind: Sendable, Equatable {
        case null
        /// The text as written (unescaped for quoted scalars). Typing happens on access, so a
        /// quoted "0x48" stays a string and a plain 0x48 reads as an integer.
        case scalar(String, ScalarStyle)
        /// Entries in file order; keys are unique (the parser rejects duplicates).
        case mapping([Entry])
        case sequence([ConfigNode])
    }

    public var kind: Kind
    /// 1-based line and column of the node's first character.
    public var line: Int
    public var column: Int

    public init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    public var isNull: Bool {
        switch kind {
        case .null: return true
        case let .scalar(s, .plain): return s == "~" || s == "null" || s == "Null" || s == "NULL"
        default: return false
        }
    }

    public var entries: [Entry]? { if case let .mapping(e) = kind { return e }; return nil }
    public var items: [ConfigNode]? { if case let .sequence(i) = kind { return i }; return nil }

    /// The scalar's text, any style.
    public var scalarText: String? { if case let .scalar(s, _) = kind { return s }; return nil }

    public subscript(key: String) -> ConfigNode? { entries?.first { $0.key == key }?.value }

    /// A plain `true`/`false` (YAML 1.2 core schema).
    public var bool: Bool? {
        guard case let .scalar(s, .plain) = kind else { return nil }
        switch s {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A plain decimal, `0x` hexadecimal, `0o` octal or `0b` binary integer, with optional sign.
    public var int: Int? {
        guard case let .scalar(s, .plain) = kind else { return nil }
        return Self.parseInt(s)
    }

    /// A plain number: any integer form above, or a decimal with fraction/exponent.
    public var double: Double? {
        guard case let .scalar(s, .plain) = kind else { return nil }
        if let i = Self.parseInt(s) { return Double(i) }
        guard let first = s.first, first.isNumber || first == "-" || first == "+" || first == "." else { return nil }
        guard s.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
        return Double(s)
    }

    /// What kind of thing the node is, for "expected X, found Y" messages.
    public var kindDescription: String {
        switch kind {
        case .null: return "nothing"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(s, style):
            if isNull { return "null" }
            if style != .plain { return "the string \"\(s)\"" }
            if bool != nil { return "the boolean \(s)" }
            if int != nil || double != nil { return "the number \(s)" }
            return "\"\(s)\""
        }
    }

    static func parseInt(_ text: String) -> Int? {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        var radix = 10
        if s.hasPrefix("0x") || s.hasPrefix("0X") { radix = 16; s = s.dropFirst(2) }
        else if s.hasPrefix("0o") || s.hasPrefix("0O") { radix = 8; s = s.dropFirst(2) }
        else if s.hasPrefix("0b") || s.hasPrefix("0B") { radix = 2; s = s.dropFirst(2) }
        let digits = s.filter { $0 != "_" }
        guard !digits.isEmpty, let v = Int(digits, radix: radix) else { return nil }
        return negative ? -v : v
    }
}
