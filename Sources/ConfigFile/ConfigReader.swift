/// Reads typed fields out of a `ConfigNode` tree, turning every mismatch into a
/// `ConfigFileError` that names the file, the line and the dotted field path. The one reader
/// of the board files, the meter maps and the station file.
public struct ConfigReader: Sendable {
    public let file: String

    public init(file: String) { self.file = file }

    public func error(_ node: ConfigNode, _ path: String, _ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: node.line, field: path, message)
    }

    public func error(line: Int, _ path: String, _ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: line, field: path, message)
    }

    public func mapping(_ node: ConfigNode, _ path: String) throws(ConfigFileError) -> ConfigFields {
        guard let entries = node.entries else {
            throw error(node, path, "expected a mapping of fields, found \(node.kindDescription)")
        }
        return ConfigFields(reader: self, node: node, entries: entries, path: path)
    }

    public func list(_ node: ConfigNode, _ path: String) throws(ConfigFileError) -> [ConfigNode] {
        guard let items = node.items else {
            throw error(node, path, "expected a list, found \(node.kindDescription)")
        }
        return items
    }

    public func string(_ node: ConfigNode, _ path: String) throws(ConfigFileError) -> String {
        guard let s = node.scalarText, !node.isNull, !s.isEmpty else {
            throw error(node, path, "expected a text value, found \(node.kindDescription)")
        }
        return s
    }

    public func int(_ node: ConfigNode, _ path: String, in range: ClosedRange<Int>, unit: String = "") throws(ConfigFileError) -> Int {
        guard let v = node.int else {
            throw error(node, path, "expected an integer\(unit.isEmpty ? "" : " (\(unit))"), found \(node.kindDescription)")
        }
        guard range.contains(v) else {
            throw error(node, path, "expected \(range.lowerBound)…\(range.upperBound)\(unit.isEmpty ? "" : " \(unit)"), found \(v)")
        }
        return v
    }

    public func double(_ node: ConfigNode, _ path: String, in range: ClosedRange<Double>? = nil, unit: String = "") throws(ConfigFileError) -> Double {
        guard let v = node.double, v.isFinite else {
            throw error(node, path, "expected a number\(unit.isEmpty ? "" : " (\(unit))"), found \(node.kindDescription)")
        }
        if let range, !range.contains(v) {
            throw error(node, path, "expected \(Self.format(range.lowerBound))…\(Self.format(range.upperBound))\(unit.isEmpty ? "" : " \(unit)"), found \(Self.format(v))")
        }
        return v
    }

    public func bool(_ node: ConfigNode, _ path: String) throws(ConfigFileError) -> Bool {
        guard let v = node.bool else {
            throw error(node, path, "expected true or false, found \(node.kindDescription)")
        }
        return v
    }

    /// Text of printable ASCII without spaces (identities, id tokens, serial numbers).
    public func identifier(_ node: ConfigNode, _ path: String) throws(ConfigFileError) -> String {
        let s = try string(node, path)
        guard s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw error(node, path, "expected printable ASCII without spaces, found \"\(s)\"")
        }
        return s
    }

    public func oneOf<T: RawRepresentable & CaseIterable>(_ node: ConfigNode, _ path: String, _: T.Type) throws(ConfigFileError) -> T where T.RawValue == String {
        let options = T.allCases.map(\.rawValue)
        guard let s = node.scalarText, !node.isNull, let v = T(rawValue: s) else {
            throw error(node, path, "expected one of \(options.joined(separator: ", ")), found \(node.kindDescription)")
        }
        return v
    }

    public static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

/// The fields of one mapping. Every key asked for (present or not) is remembered, so that
/// `finish()` can reject the keys nobody asked for and list the ones that are allowed.
public struct ConfigFields {
    public let reader: ConfigReader
    public let node: ConfigNode
    public let entries: [ConfigNode.Entry]
    public let path: String
    private var known: [String] = []

    public init(reader: ConfigReader, node: ConfigNode, entries: [ConfigNode.Entry], path: String) {
        self.reader = reader
        self.node = node
        self.entries = entries
        self.path = path
    }

    public func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// A present, non-null field.
    public mutating func optional(_ key: String) -> ConfigNode? {
        if !known.contains(key) { known.append(key) }
        guard let v = entries.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    public mutating func required(_ key: String, _ what: String) throws(ConfigFileError) -> ConfigNode {
        guard let v = optional(key) else {
            if let present = entries.first(where: { $0.key == key }) {
                throw reader.error(line: present.keyLine, sub(key), "missing value: expected \(what)")
            }
            throw reader.error(line: node.line, sub(key), "required field missing: expected \(what)")
        }
        return v
    }

    /// Rejects keys that were never asked for.
    public func finish() throws(ConfigFileError) {
        for e in entries where !known.contains(e.key) {
            throw reader.error(line: e.keyLine, sub(e.key),
                               "unknown key (expected one of: \(known.joined(separator: ", ")))")
        }
    }

    /// Exactly one of `keys` must be present; returns which.
    public mutating func exactlyOne(of keys: [String], _ what: String) throws(ConfigFileError) -> String {
        for k in keys where !known.contains(k) { known.append(k) }
        let present = keys.filter { has($0) }
        guard present.count == 1, let key = present.first else {
            // Point at the one written second: the first is most likely the intended one.
            let inFile = entries.filter { keys.contains($0.key) }
            if inFile.count > 1 {
                let second = inFile[1]
                throw reader.error(line: second.keyLine, sub(second.key),
                                   "give only one of \(keys.joined(separator: ", ")) (\(what))")
            }
            throw reader.error(line: node.line, path, "expected one of \(keys.joined(separator: ", ")) (\(what))")
        }
        return key
    }
}
