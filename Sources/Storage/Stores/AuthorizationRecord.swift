/// An authorization status as stored for the cache and the local list: the union of the OCPP 1.6
/// `AuthorizationStatus` and OCPP 2.0.1 `AuthorizationStatusEnumType` values, spelled as there.
public enum StoredAuthorizationStatus: String, CaseIterable, Sendable {
    case accepted = "Accepted"
    case blocked = "Blocked"
    case expired = "Expired"
    case invalid = "Invalid"
    case concurrentTx = "ConcurrentTx"
    case noCredit = "NoCredit"
    case notAllowedTypeEVSE = "NotAllowedTypeEVSE"
    case notAtThisLocation = "NotAtThisLocation"
    case notAtThisTime = "NotAtThisTime"
    case unknown = "Unknown"
}

/// What is known about one id token: in the authorization cache or on the local list.
public struct AuthorizationRecord: Equatable, Hashable, Sendable {
    public var idToken: String
    public var status: StoredAuthorizationStatus
    /// Unix seconds after which an `Accepted` is no longer valid; `nil` = no expiry.
    public var expiresAt: Int64?
    /// The group / parent id token, if any.
    public var parentIdToken: String?

    public init(idToken: String, status: StoredAuthorizationStatus, expiresAt: Int64? = nil,
                parentIdToken: String? = nil) {
        self.idToken = idToken
        self.status = status
        self.expiresAt = expiresAt
        self.parentIdToken = parentIdToken
    }

    /// The status to act on at `now` (unix seconds): an accepted token past its expiry is expired.
    public func effectiveStatus(at now: Int64) -> StoredAuthorizationStatus {
        if status == .accepted, let expiresAt, expiresAt <= now { return .expired }
        return status
    }
}

extension StoredAuthorizationStatus {
    init(stored: String, column: String) throws {
        guard let status = StoredAuthorizationStatus(rawValue: stored) else {
            throw StorageError.corruptValue(column: column, value: stored)
        }
        self = status
    }
}

extension AuthorizationRecord {
    /// Reads `id_token, status, expires_at, parent_id_token` from columns 0…3.
    init(row: Statement) throws {
        self.init(idToken: try row.string(0),
                  status: try StoredAuthorizationStatus(stored: try row.string(1), column: "status"),
                  expiresAt: try row.int64OrNil(2),
                  parentIdToken: try row.stringOrNil(3))
    }

    func validate() throws {
        guard !idToken.isEmpty else { throw StorageError.invalidArgument("empty id token") }
    }
}
