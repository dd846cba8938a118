/// One cached authorization.
public struct AuthorizationCacheEntry: Hashable, Sendable {
    public var idToken: IdToken
    public var info: AuthorizationInfo
    /// Last time the entry was stored or used (Unix ms), for least-recently-used eviction.
    public var lastUsedUnixMs: UInt64

    public init(idToken: IdToken, info: AuthorizationInfo, lastUsedUnixMs: UInt64) {
        self.idToken = idToken
        self.info = info
        self.lastUsedUnixMs = lastUsedUnixMs
    }
}

/// The authorization cache (OCPP AuthorizationCache): every answer of the backend is kept.
/// Storage implements it over SQLite (persistent); tests use `InMemoryAuthorizationCache`.
/// Both follow `AuthorizationCachePolicy` for what to evict when full.
public protocol AuthorizationCacheStoring: AnyObject {
    /// The entry for a token, marking it used at `unixMs`; nil when not cached.
    func get(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationInfo?
    /// Stores or replaces an entry, evicting one first when the cache is full.
    func put(_ idToken: IdToken, _ info: AuthorizationInfo, atUnixMs unixMs: UInt64)
    /// Removes one entry.
    func evict(_ idToken: IdToken)
    /// Removes every entry (OCPP ClearCache).
    func clear()
}

/// Which entry leaves a full cache: first one that is no longer accepted (blocked, invalid…),
/// then one that has expired, then the least recently used. Ties go to the oldest use, then
/// to the token's value so the choice is deterministic.
public enum AuthorizationCachePolicy {
    public static func victim<C: Collection>(among entries: C, atUnixMs unixMs: UInt64) -> IdToken?
    where C.Element == AuthorizationCacheEntry {
        func rank(_ e: AuthorizationCacheEntry) -> Int {
            if e.info.status != .accepted { return 0 }
            if e.info.effectiveStatus(atUnixMs: unixMs) != .accepted { return 1 }
            return 2
        }
        return entries.min { a, b in
            let ra = rank(a), rb = rank(b)
            if ra != rb { return ra < rb }
            if a.lastUsedUnixMs != b.lastUsedUnixMs { return a.lastUsedUnixMs < b.lastUsedUnixMs }
            return a.idToken.value < b.idToken.value
        }?.idToken
    }
}

/// A bounded cache in memory.
public final class InMemoryAuthorizationCache: AuthorizationCacheStoring {
    public let capacity: Int
    private var entries: [IdToken: AuthorizationCacheEntry] = [:]

    /// - Parameter capacity: at least 1.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { entries.count }
    public func contains(_ idToken: IdToken) -> Bool { entries[idToken] != nil }

    public func get(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationInfo? {
        guard var e = entries[idToken] else { return nil }
        e.lastUsedUnixMs = unixMs
        entries[idToken] = e
        return e.info
    }

    public func put(_ idToken: IdToken, _ info: AuthorizationInfo, atUnixMs unixMs: UInt64) {
        if entries[idToken] == nil, entries.count >= capacity,
           let victim = AuthorizationCachePolicy.victim(among: entries.values, atUnixMs: unixMs) {
            entries[victim] = nil
        }
        entries[idToken] = AuthorizationCacheEntry(idToken: idToken, info: info, lastUsedUnixMs: unixMs)
    }

    public func evict(_ idToken: IdToken) { entries[idToken] = nil }

    public func clear() { entries.removeAll() }
}
