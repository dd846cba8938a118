import Glibc
import Storage
import Testing

/// The database holds card UIDs (personal data): its files are the daemon user's alone,
/// whatever the umask the daemon runs with, and whatever an earlier version left.
@Suite(.serialized) struct FileModeTests {
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// The umask a daemon started from a shell has, for the length of `body`.
    static func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try body()
    }

    @Test func aNewDatabaseAndItsWALAreMode0600UnderUmask022() throws {
        let dir = try TemporaryDirectory()
        let storage = try Self.withUmask(0o022) { try StationStorage(dataDirectory: dir.path) }
        try storage.config.set("v", for: "k")  // a commit: the WAL exists and holds it
        let path = dir.file(StationStorage.fileName)
        #expect(Self.mode(path) == 0o600)
        #expect(Self.mode(path + "-wal") == 0o600)
        #expect(Self.mode(path + "-shm") == 0o600)
        storage.database.close()
    }

    @Test func filesAnEarlierVersionLeftOpenAreMadePrivateAtOpen() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(StationStorage.fileName)
        // An earlier version's database, killed with its WAL in place, all 0644.
        try Self.withUmask(0o022) {
            let storage = try StationStorage(dataDirectory: dir.path)
            try storage.config.set("v", for: "k")
            for file in [path, path + "-wal", path + "-shm"] { #expect(chmod(file, 0o644) == 0) }
            let copied = try Self.copyWhileOpen([path, path + "-wal", path + "-shm"], into: dir.file("old"))
            storage.database.close()
            for (source, target) in copied { #expect(rename(source, target) == 0) }
        }
        #expect(Self.mode(path + "-wal") == 0o644)
        let reopened = try StationStorage(dataDirectory: dir.path)
        #expect(try reopened.config.value(for: "k") == "v", "the WAL's commit is still read")
        #expect(Self.mode(path) == 0o600)
        #expect(Self.mode(path + "-wal") == 0o600)
        #expect(Self.mode(path + "-shm") == 0o600)
        reopened.database.close()
    }

    @Test func anInMemoryDatabaseTouchesNoFile() throws {
        let db = try Database.inMemory()
        #expect(try db.journalMode() == "memory")
        #expect(Self.mode(":memory:") == nil)
    }

    @Test func aDatabaseThatCannotBeCreatedIsAClearError() throws {
        let error = try #require(throws: StorageError.self) { try Database(path: "/nonexistent-dir/db.sqlite") }
        #expect(error.description.contains("/nonexistent-dir/db.sqlite"))
    }

    @Test func aRemovedSecretLeavesNoTraceInTheFiles() throws {
        let dir = try TemporaryDirectory()
        let storage = try StationStorage(dataDirectory: dir.path)
        let secret = "5ec2e7000000feedfacecafe5ec2e700"
        // An earlier value, replaced, lingers in the page's free space; the last one in the row.
        try storage.config.set("0ld5ec2e7feedfacecafe0ld5ec2e7aa", for: "ocpp16.AuthorizationKey")
        try storage.config.set(secret, for: "ocpp16.AuthorizationKey")
        try storage.config.set("60", for: "ocpp16.HeartbeatInterval")
        #expect(try storage.config.removeSecret("ocpp16.AuthorizationKey"))
        #expect(try storage.config.removeSecret("ocpp16.AuthorizationKey") == false)
        #expect(try storage.config.value(for: "ocpp16.AuthorizationKey") == nil)
        #expect(try storage.config.value(for: "ocpp16.HeartbeatInterval") == "60")
        let path = dir.file(StationStorage.fileName)
        for file in [path, path + "-wal"] {
            let bytes = Self.contents(file)
            #expect(!Self.contains(bytes, secret), "\(file) still holds the secret")
            #expect(!Self.contains(bytes, "0ld5ec2e7feedfacecafe0ld5ec2e7aa"), "\(file) still holds the replaced one")
        }
        storage.database.close()
    }

    // MARK: helpers

    static func contents(_ path: String) -> [UInt8] {
        guard let f = fopen(path, "rb") else { return [] }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// Copies files as they are now (as a power cut would leave them) to `<prefix><name>`;
    /// returns (copy, original) pairs to put back once the database is closed.
    static func copyWhileOpen(_ paths: [String], into prefix: String) throws -> [(String, String)] {
        try paths.map { path in
            let target = prefix + (path.split(separator: "/").last.map(String.init) ?? "")
            let bytes = contents(path)
            guard let f = fopen(target, "wb") else { throw StorageError.invalidArgument("cannot write \(target)") }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
            #expect(chmod(target, 0o644) == 0)
            return (target, path)
        }
    }
}
