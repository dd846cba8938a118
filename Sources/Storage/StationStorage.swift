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

    /// Opens `<dataDirectory>/swiftevse.sqlite` (creating the directory's file, not the
    /// directory) and runs the pending migrations.
    public convenience init(dataDirectory: String, authorizationCacheCapacity: Int = 1_000) throws {
        var info = stat()
        guard stat(dataDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw StorageError.invalidArgument("data directory '\(dataDirectory)' does not exist or is not a directory")
        }
        let path = dataDirectory.hasSuffix("/") ? dataDirectory + Self.fileName : dataDirectory + "/" + Self.fileName
        try self.init(database: Database(path: path), authorizationCacheCapacity: authorizationCacheCapacity)
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
    }
}
