#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import SmallFiles

/// Reading and locating configuration files with libc only (no Foundation in the firmware).
public enum TextFile {
    /// A configuration file is small: anything larger is the wrong file, not a config to parse.
    public static let sizeLimit = 4_000_000

    public static func read(_ path: String, kind: String = "configuration file") throws(ConfigFileError) -> String {
        do throws(SmallFile.ReadError) {
            return String(decoding: try SmallFile.read(path, limit: sizeLimit), as: UTF8.self)
        } catch {
            let tooLarge = error.reason.hasPrefix("larger than")
            throw ConfigFileError(file: path, line: 0, field: "",
                                  tooLarge ? "file larger than \(sizeLimit / 1_000_000) MB: not a \(kind)" : "cannot read the file: \(error.reason)")
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func stem(of path: String) -> String {
        var name = path
        if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
        for ext in [".yaml", ".yml"] where name.hasSuffix(ext) { name.removeLast(ext.count) }
        return name
    }

    public static func join(_ dir: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }
}
