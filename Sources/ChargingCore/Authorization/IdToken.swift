/// The identifier a user or the backend authorizes with (an RFID UID, a key code, an
/// eMAID…). OCPP 1.6 knows only the value (`idTag`, ≤ 20 characters); OCPP 2.0.1 adds the
/// kind. Both versions map onto this one type; the 1.6 adapter uses `.iso14443` for cards and
/// `.central` for remote starts.
public struct IdToken: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case central, eMAID, iso14443, iso15693, keyCode, local, macAddress, noAuthorization
    }

    public var value: String
    public var kind: Kind

    public init(_ value: String, kind: Kind = .iso14443) {
        self.value = value
        self.kind = kind
    }

    public var description: String { "\(kind.rawValue):\(value)" }

    /// Whether two tokens name the same identifier. OCPP 1.6 idTags carry no kind and compare
    /// without regard to case; a token the backend names (`.central`, e.g. in a remote start
    /// or a reservation's parent) is the same identifier as the card that carries that value.
    public func identifies(_ other: IdToken) -> Bool {
        guard value.lowercased() == other.value.lowercased() else { return false }
        return kind == other.kind || kind == .central || other.kind == .central
    }
}

/// Whether an id token may charge, as the local list, the cache or the backend says.
/// Covers the statuses of both OCPP versions (1.6 `AuthorizationStatus`, 2.0.1
/// `AuthorizationStatusEnumType`).
public enum AuthorizationStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case accepted, blocked, expired, invalid, concurrentTx, unknown, noCredit
    case notAllowedTypeEVSE, notAtThisLocation, notAtThisTime
}

/// What is known about one id token (OCPP 1.6 `IdTagInfo`, 2.0.1 `IdTokenInfo`).
public struct AuthorizationInfo: Hashable, Sendable, Codable {
    public var status: AuthorizationStatus
    /// Tokens sharing a parent may stop each other's sessions.
    public var parentIdToken: IdToken?
    /// Wall-clock expiry in Unix milliseconds; nil = never expires.
    public var expiresAtUnixMs: UInt64?

    public init(status: AuthorizationStatus, parentIdToken: IdToken? = nil, expiresAtUnixMs: UInt64? = nil) {
        self.status = status
        self.parentIdToken = parentIdToken
        self.expiresAtUnixMs = expiresAtUnixMs
    }

    public static let accepted = AuthorizationInfo(status: .accepted)

    /// The status in force at `unixMs`: an accepted entry past its expiry counts as expired.
    public func effectiveStatus(atUnixMs unixMs: UInt64) -> AuthorizationStatus {
        if status == .accepted, let expiry = expiresAtUnixMs, unixMs >= expiry { return .expired }
        return status
    }

    public func isValid(atUnixMs unixMs: UInt64) -> Bool { effectiveStatus(atUnixMs: unixMs) == .accepted }
}
