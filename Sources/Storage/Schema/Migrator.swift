/// One numbered schema step. Versions are 1, 2, 3, … with no gaps; a shipped step is never edited,
/// only followed by a new one, because devices in the field are at every earlier version.
public struct Migration: Sendable {
    public let version: Int
    public let summary: String
    public let sql: String

    public init(version: Int, summary: String, sql: String) {
        self.version = version
        self.summary = summary
        self.sql = sql
    }
}

/// Brings a database from whatever schema version it has to the latest, on start.
///
/// The version lives in `PRAGMA user_version` (in the file header, so it is part of the same
/// transaction as the schema change). Each step runs in its own transaction together with the
/// version bump: a power cut or a failing step leaves the database at the previous version,
/// never half-way.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) {
        self.migrations = migrations
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    public func currentVersion(of database: Database) throws -> Int {
        try database.withConnection { try Self.userVersion($0) }
    }

    /// Applies every step above the current version, up to `target` (default: the latest).
    /// Returns the versions applied, in order. Refuses a database newer than this list knows.
    @discardableResult
    public func migrate(_ database: Database, upTo target: Int? = nil) throws -> [Int] {
        try validate()
        let target = target ?? latestVersion
        guard (0...latestVersion).contains(target) else {
            throw StorageError.invalidArgument("target schema version \(target) is outside 0...\(latestVersion)")
        }
        return try database.withConnection { connection in
            let current = try Self.userVersion(connection)
            guard current <= latestVersion else { throw StorageError.schemaTooNew(found: current, latest: latestVersion) }
            var applied: [Int] = []
            for migration in migrations where migration.version > current && migration.version <= target {
                do {
                    try connection.transaction { connection in
                        try connection.executeScript(migration.sql)
                        try connection.executeScript("PRAGMA user_version = \(migration.version)")
                    }
                } catch let error as StorageError {
                    throw StorageError.migrationFailed(version: migration.version, underlying: error)
                }
                applied.append(migration.version)
            }
            return applied
        }
    }

    private func validate() throws {
        for (index, migration) in migrations.enumerated() where migration.version != index + 1 {
            throw StorageError.invalidMigrationList(
                "step \(index) has version \(migration.version), expected \(index + 1) (versions are 1, 2, 3, … in order)")
        }
    }

    static func userVersion(_ connection: Connection) throws -> Int {
        try connection.queryFirst("PRAGMA user_version") { try $0.int(0) } ?? 0
    }
}
