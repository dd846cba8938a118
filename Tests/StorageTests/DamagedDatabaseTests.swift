import Glibc
import Storage
import Testing

/// A damaged database at start is moved aside, never repaired in place or deleted, and the
/// station starts on a new one; a sound one is opened as it is.
@Suite struct DamagedDatabaseTests {
    static func fill(_ directory: String) throws {
        let storage = try StationStorage(dataDirectory: directory)
        try storage.localList.fullUpdate(version: 1, entries: (0..<3_000).map {
            AuthorizationRecord(idToken: "CARD\($0)", status: .accepted)
        })
        storage.database.close()  // the last connection checkpoints the WAL into the file
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func aSoundDatabaseIsOpenedAsItIs() throws {
        let dir = try TemporaryDirectory()
        try Self.fill(dir.path)
        let opening = try StationStorage.open(dataDirectory: dir.path, stamp: "20261205T080000Z")
        #expect(opening.movedAside == nil)
        #expect(try opening.storage.localList.currentVersion() == 1)
    }

    @Test func aFileThatIsNotADatabaseIsMovedAsideAndANewOneStarted() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(StationStorage.fileName)
        let garbage = Array("this is not a database, it is what a blackout left: ".utf8) + Array(repeating: 0xA5, count: 8_192)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(write(fd, garbage, garbage.count) == garbage.count)
        close(fd)
        let opening = try StationStorage.open(dataDirectory: dir.path, stamp: "20261205T080000Z")
        #expect(opening.movedAside == path + ".damaged-20261205T080000Z")
        #expect(opening.damage?.isDamagedFile == true)
        #expect(Self.exists(path + ".damaged-20261205T080000Z"), "kept for recovery")
        var info = stat()
        #expect(stat(path + ".damaged-20261205T080000Z", &info) == 0 && Int(info.st_size) == garbage.count, "untouched")
        #expect(try opening.storage.localList.currentVersion() == 0, "a new database")
        try opening.storage.config.set("x", for: "written")
    }

    @Test func aTruncatedDatabaseIsMovedAside() throws {
        let dir = try TemporaryDirectory()
        try Self.fill(dir.path)
        let path = dir.file(StationStorage.fileName)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(truncate(path, info.st_size / 2) == 0)
        let opening = try StationStorage.open(dataDirectory: dir.path, stamp: "T1")
        #expect(opening.movedAside == path + ".damaged-T1", "\(String(describing: opening.damage))")
        #expect(try opening.storage.localList.currentVersion() == 0)
    }
}
