import Foundation
@testable import OCPP16
import OCPPSecurity
import Storage
import Testing
import TestSupport

/// The AuthorizationKey lives in its own file, never in the configuration table every
/// configuration reader lists; a key an earlier version put there moves out at start.
@Suite("AuthorizationKey at rest")
struct AuthorizationKeyAtRestTests {
    static let key = "00112233445566778899aabbccddeeff00112233"
    static let keyBytes: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                    0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33]
    static let otherKey = String(repeating: "ff", count: 16)
    static let entry = "ocpp16.AuthorizationKey"

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    static func databaseFilesHold(_ text: String, in directory: String) -> Bool {
        let needle = Data(text.utf8)
        return ["", "-wal"].contains { suffix in
            let data = FileManager.default.contents(atPath: directory + "/" + StationStorage.fileName + suffix) ?? Data()
            return data.range(of: needle) != nil
        }
    }

    @Test func aKeyTheCSMSSetsGoesToItsOwnPrivateFileAndNoConfigurationReaderListsIt() async throws {
        let scratch = try SecurityScratch()
        let storage = try StationStorage(dataDirectory: scratch.directory)
        let h = try await SecurityHarness(scratch: scratch, storage: storage)
        #expect(await h.change("AuthorizationKey", Self.key.uppercased()) == "Accepted")

        #expect(try scratch.read("authorization-key") == Self.key + "\n")
        #expect(try Self.mode(scratch.path("authorization-key")) == 0o600)
        let table = try storage.config.all()
        #expect(!table.keys.contains { $0.lowercased().contains("authorizationkey") }, "\(table.keys.sorted())")
        #expect(!table.values.contains { $0.lowercased().contains(Self.key) })
        #expect(!Self.databaseFilesHold(Self.key, in: scratch.directory))

        // GetConfiguration, all keys or this one by name; the diagnostics archive's configuration.txt.
        #expect(!(await h.configurationKeys()).contains("AuthorizationKey"))
        let named = await h.call("GetConfiguration", ["key": ["AuthorizationKey"]])
        #expect(named?["configurationKey"] == nil)
        let snapshot = await h.chargePoint.diagnosticsSnapshot()
        #expect(snapshot.configuration.contains { $0.hasPrefix("HeartbeatInterval = ") })
        #expect(!snapshot.configuration.joined().contains("AuthorizationKey"))
        #expect(!snapshot.configuration.joined().lowercased().contains(Self.key))
        // The configuration service, built on the table as at every start, has no such key.
        let keys = ConfigurationService(store: storage.config, numberOfConnectors: 2)
        #expect(keys.key("AuthorizationKey") == nil)

        // The next start uses the key the CSMS set, not the provisioned one.
        let restarted = try OCPP16SecuritySetup(profile: .unsecured, authorizationKeyHex: Self.otherKey, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: 0)
        #expect(restarted.authorizationKey == Self.keyBytes)
        #expect(!"\(restarted)".contains(Self.key) && !"\(restarted)".contains("0, 17, 34"), "printed without the key")
    }

    @Test func aKeyAnEarlierVersionKeptInTheConfigurationTableMovesToItsFileAtStart() throws {
        let scratch = try SecurityScratch()
        let storage = try StationStorage(dataDirectory: scratch.directory)
        try storage.config.set(Self.key, for: Self.entry)
        try storage.config.set("120", for: "ocpp16.HeartbeatInterval")
        #expect(Self.databaseFilesHold(Self.key, in: scratch.directory), "the earlier version's database holds it")

        let service = try OCPP16SecuritySetup(profile: .basicAuth, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: 0)
        #expect(service.authorizationKey == Self.keyBytes, "the moved key is the Basic-auth password")
        #expect(try storage.config.value(for: Self.entry) == nil)
        #expect(try storage.config.value(for: "ocpp16.HeartbeatInterval") == "120", "the rest of the table stays")
        #expect(try scratch.read("authorization-key") == Self.key + "\n")
        #expect(try Self.mode(scratch.path("authorization-key")) == 0o600)
        #expect(!Self.databaseFilesHold(Self.key, in: scratch.directory), "scrubbed from the database's files")

        // Once: the next start finds nothing to move and keeps the file's key.
        #expect(try SecurityService.moveAuthorizationKey(from: storage.config,
                                                         to: AuthorizationKeyStore(dataDirectory: scratch.directory)) == false)
        let again = try OCPP16SecuritySetup(profile: .basicAuth, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: 0)
        #expect(again.authorizationKey == Self.keyBytes)
    }

    @Test func theTablesKeyWinsOverAFileAndAValueThatIsNoKeyIsDropped() throws {
        let scratch = try SecurityScratch()
        let storage = try StationStorage(dataDirectory: scratch.directory)
        let keys = try AuthorizationKeyStore(dataDirectory: scratch.directory)
        try keys.save(hex: Self.otherKey)
        // A downgrade wrote the table after the file: the table's key is the newer one.
        try storage.config.set(Self.key, for: Self.entry)
        #expect(try SecurityService.moveAuthorizationKey(from: storage.config, to: keys))
        #expect(try keys.load() == Self.key)

        try storage.config.set("not a key", for: Self.entry)
        #expect(try SecurityService.moveAuthorizationKey(from: storage.config, to: keys))
        #expect(try keys.load() == Self.key, "the file keeps the last real key")
        #expect(try storage.config.value(for: Self.entry) == nil)
    }

    @Test func aStationWithoutACSMSMovesTheKeyToo() throws {
        let scratch = try SecurityScratch()
        let storage = try StationStorage(dataDirectory: scratch.directory)
        try storage.config.set(Self.key, for: Self.entry)
        try OCPP16SecuritySetup.moveStoredAuthorizationKey(from: storage.config, dataDirectory: scratch.directory)
        #expect(try storage.config.value(for: Self.entry) == nil)
        #expect(try AuthorizationKeyStore(dataDirectory: scratch.directory).load() == Self.key)
    }

    @Test func theSetupIsPrintedWithoutTheKey() throws {
        let setup = OCPP16SecuritySetup(profile: .basicAuth, authorizationKeyHex: Self.key, dataDirectory: "/tmp/x")
        #expect(!"\(setup)".contains(Self.key))
        #expect("\(setup)".contains("<redacted>"))
    }
}
