import Foundation
import Testing
@testable import OCPPSecurity

/// The AuthorizationKey's own file: private, replaced atomically, never half-written.
@Suite struct AuthorizationKeyStoreTests {
    static let key = "00112233445566778899AABBCCDDEEFF00112233"
    static let otherKey = "ffeeddccbbaa99887766554433221100"

    @Test func roundTripsTheKeyAsLowercaseHexOnOneLine() throws {
        let dir = try TestPKI()
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        #expect(store.path == dir.file("authorization-key"))
        #expect(try store.load() == nil, "nothing stored yet")
        try store.save(hex: Self.key)
        #expect(try store.load() == Self.key.lowercased())
        #expect(try dir.read("authorization-key") == Self.key.lowercased() + "\n")
        // A second store on the same directory (the next start) reads it back.
        #expect(try AuthorizationKeyStore(dataDirectory: dir.path + "/").load() == Self.key.lowercased())
        try store.remove()
        #expect(try store.load() == nil)
        try store.remove()  // removing nothing is fine
    }

    @Test func aPasswordIsStoredAsTheHexOfItsBytesAndReadBackAsThem() throws {
        let dir = try TestPKI()
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        #expect(try store.loadPassword() == nil)
        try store.savePassword(Array("Pa55word-of-2.0.1".utf8))
        #expect(try dir.read("authorization-key") == "50613535776f72642d6f662d322e302e31\n", "hex, as 1.6 keeps its key")
        #expect(try store.loadPassword() == Array("Pa55word-of-2.0.1".utf8))
        try store.save(hex: Self.key)
        #expect(try store.loadPassword() == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
                                             0x00, 0x11, 0x22, 0x33], "a 1.6 key is the password bytes it spells")
    }

    @Test func isMode0600UnderTheUsualUmask() throws {
        let dir = try TestPKI()
        let previous = umask(0o022)
        defer { umask(previous) }
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        try store.save(hex: Self.key)
        #expect(try dir.mode(of: store.path) == 0o600)
        try store.save(hex: Self.otherKey)
        #expect(try dir.mode(of: store.path) == 0o600)
    }

    @Test func replacesTheFileAtomicallyWithoutLeftovers() throws {
        let dir = try TestPKI()
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        try store.save(hex: Self.key)
        let before = try inode(store.path)
        // A reader that opened the old key keeps reading the whole old key: the new one is a new
        // file renamed over it, never the old file rewritten in place.
        let reader = try #require(FileHandle(forReadingAtPath: store.path))
        defer { try? reader.close() }
        try store.save(hex: Self.otherKey)
        #expect(try inode(store.path) != before)
        #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == Self.key.lowercased() + "\n")
        #expect(try store.load() == Self.otherKey)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.hasPrefix("authorization-key.") }, "no temp file left: \(names)")
    }

    @Test func startTightensAnOpenKeyFileAndRemovesTempFilesACutWriteLeft() throws {
        let dir = try TestPKI()
        try dir.write("authorization-key", Self.key + "\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.file("authorization-key"))
        try dir.write("authorization-key.tmp-4242", Self.otherKey + "\n")
        try dir.write("other-file", "kept")
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        #expect(try dir.mode(of: store.path) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: dir.file("authorization-key.tmp-4242")))
        #expect(FileManager.default.fileExists(atPath: dir.file("other-file")))
        #expect(try store.load() == Self.key)
    }

    @Test func aFileTooBigToBeAKeyIsAnError() throws {
        let dir = try TestPKI()
        try dir.write("authorization-key", String(repeating: "a", count: 10_000))
        let store = try AuthorizationKeyStore(dataDirectory: dir.path)
        #expect(throws: SecurityFileError.self) { try store.load() }
    }

    private func inode(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return UInt64(info.st_ino)
    }
}
