#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and locating board files with libc only (no Foundation in the firmware).
enum TextFile {
    static func read(_ path: String) throws(BoardFileError) -> String {
        guard let f = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw BoardFileError(file: path, line: 0, field: "", "cannot read the file: \(reason)")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                if ferror(f) != 0 {
                    throw BoardFileError(file: path, line: 0, field: "", "read error")
                }
                break
            }
            if bytes.count > 4_000_000 {
                throw BoardFileError(file: path, line: 0, field: "", "file larger than 4 MB: not a board file")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func stem(of path: String) -> String {
        var name = path
        if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
        for ext in [".yaml", ".yml"] where name.hasSuffix(ext) { name.removeLast(ext.count) }
        return name
    }

    static func join(_ dir: String, _ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }
}
