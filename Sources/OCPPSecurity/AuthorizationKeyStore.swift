import Codecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The OCPP 1.6 AuthorizationKey at rest: the Basic-auth password to the CSMS, in a file of its
/// own (`<data-dir>/authorization-key`, mode 0600, the key as hex on one line).
///
/// Kept apart from the station database on purpose: the database is what support copies off a
/// charger and what every configuration reader lists, and a key that is not in it can leak
/// through neither. Written atomically (temp file, fsync, rename, directory fsync): a power cut
/// leaves the old key or the new one, never a torn one the CSMS would refuse.
public struct AuthorizationKeyStore: Sendable {
    public static let fileName = "authorization-key"
    /// Only the daemon's user reads it, whatever its umask.
    public static let fileMode: mode_t = 0o600
    /// Far more than 40 hex digits: a bigger file is not a key file.
    static let sizeLimit = 4_096

    public let path: String

    /// The store under `dataDirectory` (which must exist).
    public init(dataDirectory: String) throws {
        try self.init(path: dataDirectory.hasSuffix("/") ? dataDirectory + Self.fileName : dataDirectory + "/" + Self.fileName)
    }

    /// Makes an existing key file private (an earlier hand-made one may be 0644) and removes
    /// the temp files a write cut short left behind: each holds a key too.
    public init(path: String) throws {
        self.path = path
        try SecurityFiles.restrict(path, mode: Self.fileMode)
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        for entry in try SecurityFiles.list(directory) where entry.hasPrefix(name + ".tmp-") {
            try SecurityFiles.remove(directory + "/" + entry)
        }
    }

    /// The stored key as hex (as it was saved), or nil when none is stored.
    public func load() throws -> String? {
        guard SecurityFiles.exists(path) else { return nil }
        let bytes = try SecurityFiles.readAll(path, limit: Self.sizeLimit)
        let hex = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        return hex.isEmpty ? nil : hex
    }

    /// Replaces the stored key with `hex` (the caller has checked it is a key).
    public func save(hex: String) throws {
        try SecurityFiles.writeAtomically(Array((hex.lowercased() + "\n").utf8), to: path, mode: Self.fileMode)
    }

    /// The stored key as the Basic-auth password bytes it stands for (both versions send these:
    /// 1.6's AuthorizationKey is the bytes its hex spells, 2.0.1's BasicAuthPassword the UTF-8 of
    /// its text, stored by `savePassword`). nil when none is stored or the file is not hex.
    public func loadPassword() throws -> [UInt8]? {
        try load().flatMap { Hex.decode($0) }
    }

    /// Replaces the stored key with these password bytes (2.0.1's SecurityCtrlr.BasicAuthPassword).
    public func savePassword(_ bytes: [UInt8]) throws {
        try save(hex: Hex.encode(bytes))
    }

    /// Forgets the key; nothing when none is stored.
    public func remove() throws {
        try SecurityFiles.remove(path)
        SecurityFiles.syncDirectory(of: path)
    }
}
