#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and locating configuration files with libc only (no Foundation in the firmware).
public enum TextFile {
    /// A configuration file is small: anything larger is the wrong file, not a config to parse.
    public static let sizeLimit = 4_000_000

    public static func read(_ path: String, kind: String = "configuration file") throws(ConfigFileError) -> String {
        guard let f = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw ConfigFileError(file: path, line: 0, field: "", "cannot read the file: \(reason)")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                if ferror(f) != 0 {
                    throw ConfigFileError(file: path, line: 0, field: "", "read error")
                }
                break
            }
            if bytes.count > sizeLimit {
                throw ConfigFileError(file: path, line: 0, field: "", "file larger than \(sizeLimit / 1_000_000) MB: not a \(kind)")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
