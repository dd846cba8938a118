#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BoardDescription

/// Typed access to the station file's nodes; every mismatch is a `BoardFileError` naming file,
/// line and dotted field (the board loader's reader is internal to its module).
struct StationConfigReader {
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    let file: String

    func error(_ node: ConfigNode, _ path: String, _ message: String) -> BoardFileError {
        BoardFileError(file: file, line: node.line, field: path, message)
    }

    func mapping(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> StationConfigFields {
        guard let entries = node.entries else {
            throw error(node, path, "expected a mapping of fields, found \(node.kindDescription)")
        }
        return StationConfigFields(reader: self, node: node, entries: entries, path: path)
    }

    func list(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> [ConfigNode] {
        guard let items = node.items else { throw error(node, path, "expected a list, found \(node.kindDescription)") }
        return items
    }

    func string(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> String {
        guard let s = node.scalarText, !node.isNull, !s.isEmpty else {
            throw error(node, path, "expected a text value, found \(node.kindDescription)")
        }
        return s
    }

    /// Text of printable ASCII without spaces (identities, id tokens).
    func identifier(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> String {
        let s = try string(node, path)
        guard s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw error(node, path, "expected printable ASCII without spaces, found \"\(s)\"")
        }
        return s
    }

    func int(_ node: ConfigNode, _ path: String, in range: ClosedRange<Int>, unit: String) throws(BoardFileError) -> Int {
        guard let v = node.int else { throw error(node, path, "expected an integer (\(unit)), found \(node.kindDescription)") }
        guard range.contains(v) else { throw error(node, path, "expected \(range.lowerBound)…\(range.upperBound) \(unit), found \(v)") }
        return v
    }

    func bool(_ node: ConfigNode, _ path: String) throws(BoardFileError) -> Bool {
        guard let v = node.bool else { throw error(node, path, "expected true or false, found \(node.kindDescription)") }
        return v
    }

    func oneOf<T: RawRepresentable & CaseIterable>(_ node: ConfigNode, _ path: String, _: T.Type) throws(BoardFileError) -> T
    where T.RawValue == String {
        guard let s = node.scalarText, !node.isNull, let v = T(rawValue: s) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(node, path, "expected one of \(options), found \(node.scalarText.map { "\"\($0)\"" } ?? node.kindDescription)")
        }
        return v
    }
}

/// One mapping's fields; `finish()` rejects keys nobody asked for (a typo must not be ignored).
struct StationConfigFields {
    let reader: StationConfigReader
    let node: ConfigNode
    let entries: [ConfigNode.Entry]
    let path: String
    private var known: [String] = []

    init(reader: StationConfigReader, node: ConfigNode, entries: [ConfigNode.Entry], path: String) {
        self.reader = reader
        self.node = node
        self.entries = entries
        self.path = path
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func optional(_ key: String) -> ConfigNode? {
        if !known.contains(key) { known.append(key) }
        guard let v = entries.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    mutating func required(_ key: String, _ what: String) throws(BoardFileError) -> ConfigNode {
        guard let v = optional(key) else {
            throw BoardFileError(file: reader.file, line: node.line, field: sub(key), "required field missing: expected \(what)")
        }
        return v
    }

    func finish() throws(BoardFileError) {
        for e in entries where !known.contains(e.key) {
            throw BoardFileError(file: reader.file, line: e.keyLine, field: sub(e.key),
                                 "unknown key (expected one of: \(known.joined(separator: ", ")))")
        }
    }
}

enum StationConfigFile {
    static func read(_ path: String) throws(BoardFileError) -> String {
        guard let f = fopen(path, "rb") else {
            throw BoardFileError(file: path, line: 0, field: "", "cannot read the file: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count { break }
            if bytes.count > 1_000_000 { throw BoardFileError(file: path, line: 0, field: "", "larger than 1 MB: not a station file") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
