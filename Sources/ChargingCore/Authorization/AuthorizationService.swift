/// How the station authorizes (station configuration).
public enum AuthorizationMode: String, Hashable, Sendable, Codable {
    /// The backend is the authority; the local list, the cache and the offline policies help.
    case online
    /// Standalone: everyone may charge (plugging in is enough; presented cards are accepted).
    case freeVend
    /// Standalone: only tokens accepted by the local list may charge.
    case localListOnly
}

/// The OCPP 1.6 configuration keys of authorization (2.0.1 has the same under other names).
public struct AuthorizationPolicy: Hashable, Sendable, Codable {
    public var mode: AuthorizationMode
    /// LocalAuthListEnabled.
    public var localListEnabled: Bool
    /// AuthorizationCacheEnabled.
    public var cacheEnabled: Bool
    /// LocalPreAuthorize: while online, accept from list/cache without asking the backend.
    public var localPreAuthorize: Bool
    /// LocalAuthorizeOffline: while offline, decide from list/cache.
    public var localAuthorizeOffline: Bool
    /// AllowOfflineTxForUnknownId: while offline, accept tokens neither list nor cache know.
    public var allowOfflineTxForUnknownId: Bool

    public init(mode: AuthorizationMode = .online, localListEnabled: Bool = true, cacheEnabled: Bool = true,
                localPreAuthorize: Bool = false, localAuthorizeOffline: Bool = true,
                allowOfflineTxForUnknownId: Bool = false) {
        self.mode = mode
        self.localListEnabled = localListEnabled
        self.cacheEnabled = cacheEnabled
        self.localPreAuthorize = localPreAuthorize
        self.localAuthorizeOffline = localAuthorizeOffline
        self.allowOfflineTxForUnknownId = allowOfflineTxForUnknownId
    }
}

public enum BackendAuthorizationReply: Hashable, Sendable {
    /// The answer is known now (e.g. a test backend).
    case answered(AuthorizationInfo)
    /// The request is on its way; pass the answer to `AuthorizationService.backendAnswered`,
    /// or a timeout to `backendFailed`.
    case pending
    /// The request cannot be sent (offline): the offline policies decide.
    case unreachable
}

/// Where the OCPP adapters plug in (an Authorize request). Standalone stations use
/// `NoAuthorizationBackend`.
public protocol AuthorizationBackend: AnyObject {
    /// Whether the backend is reachable now.
    var isOnline: Bool { get }
    func requestAuthorization(for idToken: IdToken) -> BackendAuthorizationReply
}

/// No backend: always offline.
public final class NoAuthorizationBackend: AuthorizationBackend {
    public init() {}
    public var isOnline: Bool { false }
    public func requestAuthorization(for idToken: IdToken) -> BackendAuthorizationReply { .unreachable }
}

public enum AuthorizationSource: String, Hashable, Sendable {
    case freeVend, localList, cache, backend, offlinePolicy
}

public enum AuthorizationDecision: Hashable, Sendable {
    case accepted(AuthorizationInfo, AuthorizationSource)
    case rejected(AuthorizationInfo, AuthorizationSource)
    /// Waiting for the backend.
    case pending

    /// What to hand the connector as `.authorizationResult` (nil while pending).
    public var info: AuthorizationInfo? {
        switch self {
        case let .accepted(info, _), let .rejected(info, _): return info
        case .pending: return nil
        }
    }

    public var isAccepted: Bool { if case .accepted = self { return true } else { return false } }
}

/// Decides whether a token may charge, from the sources in order: local list, cache, the
/// backend, the offline policies; or by a standalone mode. Owned by the station's event loop
/// (not thread-safe).
public final class AuthorizationService {
    public var policy: AuthorizationPolicy
    public let localList: any LocalAuthorizationListLookup
    public let cache: any AuthorizationCacheStoring
    public var backend: any AuthorizationBackend

    public init(policy: AuthorizationPolicy, localList: any LocalAuthorizationListLookup,
                cache: any AuthorizationCacheStoring, backend: any AuthorizationBackend = NoAuthorizationBackend()) {
        self.policy = policy
        self.localList = localList
        self.cache = cache
        self.backend = backend
    }

    public func authorize(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationDecision {
        switch policy.mode {
        case .freeVend:
            return .accepted(.accepted, .freeVend)
        case .localListOnly:
            guard let entry = localList.entry(for: idToken) else {
                return .rejected(AuthorizationInfo(status: .invalid), .localList)
            }
            return judge(entry, .localList, atUnixMs: unixMs)
        case .online:
            guard backend.isOnline else { return offlineDecision(idToken, atUnixMs: unixMs) }
            if policy.localPreAuthorize {
                if policy.localListEnabled, let entry = localList.entry(for: idToken), entry.isValid(atUnixMs: unixMs) {
                    return .accepted(entry, .localList)
                }
                if policy.cacheEnabled, let cached = cache.get(idToken, atUnixMs: unixMs), cached.isValid(atUnixMs: unixMs) {
                    return .accepted(cached, .cache)
                }
            }
            switch backend.requestAuthorization(for: idToken) {
            case let .answered(info): return backendAnswered(idToken, info, atUnixMs: unixMs)
            case .pending: return .pending
            case .unreachable: return offlineDecision(idToken, atUnixMs: unixMs)
            }
        }
    }

    /// The backend's answer: cached (unless the local list names the token, which takes
    /// precedence), then judged.
    public func backendAnswered(_ idToken: IdToken, _ info: AuthorizationInfo, atUnixMs unixMs: UInt64) -> AuthorizationDecision {
        remember(idToken, info, atUnixMs: unixMs)
        return judge(info, .backend, atUnixMs: unixMs)
    }

    /// What the backend said about a token outside an authorization (OCPP 1.6: the idTagInfo of
    /// a StartTransaction or StopTransaction answer): cached, expiry and all, unless the local
    /// list names the token (the list takes precedence). Nothing waits for a decision.
    public func remember(_ idToken: IdToken, _ info: AuthorizationInfo, atUnixMs unixMs: UInt64) {
        if policy.cacheEnabled && !(policy.localListEnabled && localList.entry(for: idToken) != nil) {
            cache.put(idToken, info, atUnixMs: unixMs)
        }
    }

    /// The backend did not answer in time or went offline: the offline policies decide.
    public func backendFailed(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationDecision {
        offlineDecision(idToken, atUnixMs: unixMs)
    }

    private func offlineDecision(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationDecision {
        var known = false
        if policy.localListEnabled, let entry = localList.entry(for: idToken) {
            if policy.localAuthorizeOffline { return judge(entry, .localList, atUnixMs: unixMs) }
            known = true
        }
        if !known, policy.cacheEnabled, let cached = cache.get(idToken, atUnixMs: unixMs) {
            if policy.localAuthorizeOffline { return judge(cached, .cache, atUnixMs: unixMs) }
            known = true
        }
        if !known && policy.allowOfflineTxForUnknownId {
            return .accepted(.accepted, .offlinePolicy)
        }
        return .rejected(AuthorizationInfo(status: known ? .invalid : .unknown), .offlinePolicy)
    }

    private func judge(_ info: AuthorizationInfo, _ source: AuthorizationSource, atUnixMs unixMs: UInt64) -> AuthorizationDecision {
        let status = info.effectiveStatus(atUnixMs: unixMs)
        if status == .accepted { return .accepted(info, source) }
        var shown = info
        shown.status = status
        return .rejected(shown, source)
    }
}
