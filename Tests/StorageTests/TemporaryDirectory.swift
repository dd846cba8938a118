import Glibc
import Storage

/// A fresh directory under /tmp for one test's database files, removed when the object goes.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/swiftevse-storage-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw StorageError.invalidArgument("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
