/// One change of a differential local-list update.
public enum LocalAuthorizationListChange: Equatable, Sendable {
    /// Adds the token or replaces what the list had for it.
    case upsert(AuthorizationRecord)
    /// Removes the token; removing a token the list does not have is not an error.
    case remove(idToken: String)
}

/// The versioned local authorization list, kept on disk and looked up by id token through the
/// primary-key index, so 50,000 entries never need to be in memory. The OCPP rules about which
/// version numbers are acceptable belong to the protocol adapters; this store applies an update
/// and its version atomically, and tells the current version.
///
/// An empty list has version 0, however it became empty (a full update without entries, or a
/// differential one that removed the last entry): OCPP 1.6 GetLocalListVersion reports 0 for
/// "no list", and a CSMS that reads 0 must be able to follow with any differential version ≥ 1.
public final class LocalAuthorizationListStore: Sendable {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The version of the list on the station; 0 when none was ever installed.
    public func currentVersion() throws -> Int {
        try database.withConnection { c in
            try c.queryFirst("SELECT version FROM local_list_version WHERE singleton = 1") { try $0.int(0) } ?? 0
        }
    }

    /// Replaces the whole list with `entries` and sets `version` (0 when `entries` is empty), in
    /// one transaction: the list seen by a lookup is always either the old one or the new one. A
    /// duplicate or empty id token fails the update and leaves the old list in place.
    public func fullUpdate(version: Int, entries: some Sequence<AuthorizationRecord>) throws {
        try Self.validate(version: version)
        try database.transaction { c in
            try c.execute("DELETE FROM local_list")
            try c.withStatement("""
                INSERT INTO local_list (id_token, status, expires_at, parent_id_token) VALUES (?, ?, ?, ?)
                """) { insert in
                for entry in entries {
                    try entry.validate()
                    try Self.bind(entry, to: insert)
                    do {
                        try insert.run()
                    } catch let error as StorageError where error.isPrimaryKeyViolation {
                        throw StorageError.duplicateIdToken(entry.idToken)
                    }
                    insert.reset()
                }
            }
            try Self.setVersion(version, c)
        }
    }

    /// Applies `changes` in order and sets `version` (0 when no entry is left), in one transaction
    /// (all or nothing).
    public func differentialUpdate(version: Int, changes: some Sequence<LocalAuthorizationListChange>) throws {
        try Self.validate(version: version)
        try database.transaction { c in
            for change in changes {
                switch change {
                case .upsert(let entry):
                    try entry.validate()
                    try c.withStatement("""
                        INSERT INTO local_list (id_token, status, expires_at, parent_id_token) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id_token) DO UPDATE SET status = excluded.status,
                            expires_at = excluded.expires_at, parent_id_token = excluded.parent_id_token
                        """) { upsert in
                        try Self.bind(entry, to: upsert)
                        try upsert.run()
                    }
                case .remove(let idToken):
                    try c.execute("DELETE FROM local_list WHERE id_token = ?", [.text(idToken)])
                }
            }
            try Self.setVersion(version, c)
        }
    }

    public func lookup(_ idToken: String) throws -> AuthorizationRecord? {
        try database.withConnection { c in
            try c.queryFirst("""
                SELECT id_token, status, expires_at, parent_id_token FROM local_list WHERE id_token = ?
                """, [.text(idToken)]) { try AuthorizationRecord(row: $0) }
        }
    }

    public func count() throws -> Int {
        try database.withConnection { c in
            try c.queryFirst("SELECT count(*) FROM local_list") { try $0.int(0) } ?? 0
        }
    }

    /// Calls `body` for every entry in id-token order, one row at a time (for SendLocalList
    /// answers and diagnostics without loading the list).
    public func forEachEntry(_ body: (AuthorizationRecord) throws -> Void) throws {
        try database.withConnection { c in
            try c.withStatement("SELECT id_token, status, expires_at, parent_id_token FROM local_list ORDER BY id_token") {
                try $0.forEachRow { try body(AuthorizationRecord(row: $0)) }
            }
        }
    }

    private static func validate(version: Int) throws {
        guard version >= 0 else { throw StorageError.invalidArgument("local list version \(version) is negative") }
    }

    private static func bind(_ entry: AuthorizationRecord, to statement: Statement) throws {
        try statement.bind([.text(entry.idToken), .text(entry.status.rawValue), .integer(orNull: entry.expiresAt),
                            .text(orNull: entry.parentIdToken)])
    }

    /// Sets the version of the list as it is now in `c`'s transaction: 0 when it is empty.
    private static func setVersion(_ version: Int, _ c: Connection) throws {
        try c.execute("""
            INSERT INTO local_list_version (singleton, version)
            VALUES (1, CASE WHEN EXISTS (SELECT 1 FROM local_list) THEN ?1 ELSE 0 END)
            ON CONFLICT (singleton) DO UPDATE SET version = excluded.version
            """, [.int(version)])
    }
}
