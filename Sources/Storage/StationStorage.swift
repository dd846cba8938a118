import Glibc

/// The station's database opened, migrated to the latest schema, with every store on it.
/// The one thing the Station creates at start.
public final class StationStorage: Sendable {
    /// The file name under the data directory.
    public static let fileName = "swiftevse.sqlite"

    public let database: Database
    public let config: ConfigStore
    public let connectorAvailability: ConnectorAvailabilityStore
    public let authorizationCache: AuthorizationCacheStore
    public let localList: LocalAuthorizationListStore
    public let journal: SessionJournal
    public let securityLog: SecurityEventLog
    /// The OCPP 2.0.1 device model's variables and monitors.
    public let deviceModel: DeviceModelStore
    /// The display messages a backend set (OCPP 2.0.1 SetDisplayMessage).
    public let displayMessages: DisplayMessageStore

    /// Opens `<dataDirectory>/swiftevse.sqlite` (creating the directory's file, not the
    /// directory) and runs the pending migrations.
    public convenience init(dataDirectory: String, authorizationCacheCapacity: Int = 1_000) throws {
        let path = try Self.databasePath(in: dataDirectory)
        try self.init(database: Database(path: path), authorizationCacheCapacity: authorizationCacheCapacity)
    }

    /// What `open(dataDirectory:…)` found and did.
    public struct Opening: Sendable {
        public var storage: StationStorage
        /// Where a damaged database was moved (nil: the file was sound or new).
        public var movedAside: String?
        /// Why it was moved.
        public var damage: StorageError?
    }

    /// Opens the station's database as `init(dataDirectory:)` does, after SQLite's quick check
    /// of every page. A damaged or truncated file (or one that is not a database) is moved
    /// aside to `swiftevse.sqlite.damaged-<stamp>` with its -wal and -shm, never deleted, and a
    /// new database is started: the charger keeps working, the old data stays on disk for
    /// recovery, and the caller logs and reports the move. Any other failure (a full or
    /// read-only disk) is thrown.
    public static func open(dataDirectory: String, stamp: String, authorizationCacheCapacity: Int = 1_000) throws -> Opening {
        let path = try databasePath(in: dataDirectory)
        do {
            let database = try Database(path: path)
            do {
                try database.checkIntegrity()
                return Opening(storage: try StationStorage(database: database, authorizationCacheCapacity: authorizationCacheCapacity))
            } catch {
                database.close()
                throw error
            }
        } catch let error as StorageError where error.isDamagedFile || isDamagedMigration(error) {
            let moved = try DatabaseFiles.moveAside(path, stamp: stamp)
            let storage = try StationStorage(database: Database(path: path), authorizationCacheCapacity: authorizationCacheCapacity)
            return Opening(storage: storage, movedAside: moved, damage: error)
        }
    }

    private static func isDamagedMigration(_ error: StorageError) -> Bool {
        if case .migrationFailed(_, let underlying) = error { return underlying.isDamagedFile }
        return false
    }

    static func databasePath(in dataDirectory: String) throws -> String {
        var info = stat()
        guard stat(dataDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw StorageError.invalidArgument("data directory '\(dataDirectory)' does not exist or is not a directory")
        }
        return dataDirectory.hasSuffix("/") ? dataDirectory + Self.fileName : dataDirectory + "/" + Self.fileName
    }

    /// Writes one small row and commits it: can the station record a billing fact right now?
    /// Used only while a failure is suspected (flash wears with every fsync).
    public func probeWrite(stamp: String) throws {
        try config.set(stamp, for: "station.storage_probe")
    }

    /// Migrates `database` and builds the stores on it (tests pass an in-memory database).
    public init(database: Database, authorizationCacheCapacity: Int = 1_000) throws {
        try StationSchema.migrator.migrate(database)
        self.database = database
        config = ConfigStore(database: database)
        connectorAvailability = ConnectorAvailabilityStore(database: database)
        authorizationCache = try AuthorizationCacheStore(database: database, capacity: authorizationCacheCapacity)
        localList = LocalAuthorizationListStore(database: database)
        journal = SessionJournal(database: database)
        securityLog = try SecurityEventLog(database: database)
        deviceModel = DeviceModelStore(database: database)
        displayMessages = DisplayMessageStore(database: database)
    }
}
