/// Read access to the local authorization list (OCPP SendLocalList). Storage implements it
/// over SQLite so 50,000 entries are looked up without loading them; tests use
/// `InMemoryLocalAuthorizationList`.
public protocol LocalAuthorizationListLookup: AnyObject {
    /// The list version (0 = no list installed, or an empty one).
    var version: Int { get }
    /// The entry for a token, or nil when the list does not name it.
    func entry(for idToken: IdToken) -> AuthorizationInfo?
}

/// A full or differential update of the local list (OCPP 1.6 SendLocalList, 2.0.1
/// SendLocalList with the same semantics).
public struct LocalAuthorizationListUpdate: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case full, differential }
    public struct Entry: Hashable, Sendable {
        public var idToken: IdToken
        /// nil in a differential update removes the entry; a full update ignores such
        /// entries (they are simply not in the new list).
        public var info: AuthorizationInfo?
        public init(idToken: IdToken, info: AuthorizationInfo?) {
            self.idToken = idToken
            self.info = info
        }
    }
    public var version: Int
    public var kind: Kind
    public var entries: [Entry]

    public init(version: Int, kind: Kind, entries: [Entry]) {
        self.version = version
        self.kind = kind
        self.entries = entries
    }

    /// Checks the update against the installed version; the error says what is wrong.
    /// A full update with an empty list clears the list (version may then be anything ≥ 0).
    /// Whatever the update's version, a list left empty has version 0 (OCPP 1.6: "if the list
    /// is empty, the version shall be 0").
    public func validate(installedVersion: Int) throws(LocalAuthorizationListError) {
        guard version >= 0 else { throw .invalidVersion(version) }
        if kind == .full && entries.isEmpty { return }
        guard version > 0 else { throw .invalidVersion(version) }
        if kind == .differential, version <= installedVersion {
            throw .versionMismatch(installed: installedVersion, update: version)
        }
        var seen = Set<IdToken>()
        for e in entries {
            guard !e.idToken.value.isEmpty else { throw .invalidEntry("an entry has an empty id token") }
            guard seen.insert(e.idToken).inserted else { throw .invalidEntry("\(e.idToken) appears twice") }
        }
    }
}

public enum LocalAuthorizationListError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidVersion(Int)
    /// OCPP `VersionMismatch`.
    case versionMismatch(installed: Int, update: Int)
    case invalidEntry(String)

    public var description: String {
        switch self {
        case let .invalidVersion(v): return "local list: invalid version \(v)"
        case let .versionMismatch(installed, update):
            return "local list: differential update version \(update) is not above the installed version \(installed)"
        case let .invalidEntry(why): return "local list: \(why)"
        }
    }
}

/// The local list in memory, for tests and boards without storage.
public final class InMemoryLocalAuthorizationList: LocalAuthorizationListLookup {
    public private(set) var version: Int = 0
    private var entries: [IdToken: AuthorizationInfo] = [:]

    public init(version: Int = 0, entries: [IdToken: AuthorizationInfo] = [:]) {
        self.version = version
        self.entries = entries
    }

    public var count: Int { entries.count }

    public func entry(for idToken: IdToken) -> AuthorizationInfo? { entries[idToken] }

    /// Applies an update; a rejected update changes nothing.
    public func apply(_ update: LocalAuthorizationListUpdate) throws(LocalAuthorizationListError) {
        try update.validate(installedVersion: version)
        switch update.kind {
        case .full:
            var fresh: [IdToken: AuthorizationInfo] = [:]
            for e in update.entries { if let info = e.info { fresh[e.idToken] = info } }
            entries = fresh
        case .differential:
            for e in update.entries { entries[e.idToken] = e.info }
        }
        version = entries.isEmpty ? 0 : update.version
    }
}
