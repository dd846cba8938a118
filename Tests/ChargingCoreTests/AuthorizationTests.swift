import ChargingCore
import Testing

final class ScriptedBackend: AuthorizationBackend {
    var isOnline: Bool
    var reply: BackendAuthorizationReply
    var asked: [IdToken] = []
    init(online: Bool, reply: BackendAuthorizationReply = .pending) {
        isOnline = online
        self.reply = reply
    }
    func requestAuthorization(for idToken: IdToken) -> BackendAuthorizationReply {
        asked.append(idToken)
        return reply
    }
}

@Suite("Authorization")
struct AuthorizationTests {
    let listed = IdToken("LISTED")
    let cached = IdToken("CACHED")
    let stranger = IdToken("STRANGER")
    let blocked = IdToken("BLOCKED")
    let now: UInt64 = 1_000_000

    func service(_ policy: AuthorizationPolicy, backend: ScriptedBackend) -> (AuthorizationService, InMemoryAuthorizationCache) {
        let list = InMemoryLocalAuthorizationList(version: 1, entries: [
            listed: .accepted,
            blocked: AuthorizationInfo(status: .blocked),
        ])
        let cache = InMemoryAuthorizationCache(capacity: 10)
        cache.put(cached, .accepted, atUnixMs: 0)
        return (AuthorizationService(policy: policy, localList: list, cache: cache, backend: backend), cache)
    }

    @Test("free vend accepts everyone without asking anybody")
    func freeVend() {
        let backend = ScriptedBackend(online: true)
        let (s, _) = service(AuthorizationPolicy(mode: .freeVend), backend: backend)
        #expect(s.authorize(stranger, atUnixMs: now) == .accepted(.accepted, .freeVend))
        #expect(backend.asked.isEmpty)
    }

    @Test("local list only: listed and accepted → yes; blocked, unknown, or only cached → no")
    func localListOnly() {
        let (s, _) = service(AuthorizationPolicy(mode: .localListOnly), backend: ScriptedBackend(online: true))
        #expect(s.authorize(listed, atUnixMs: now).isAccepted)
        #expect(s.authorize(blocked, atUnixMs: now) == .rejected(AuthorizationInfo(status: .blocked), .localList))
        #expect(!s.authorize(stranger, atUnixMs: now).isAccepted)
        #expect(!s.authorize(cached, atUnixMs: now).isAccepted)
    }

    @Test("online without LocalPreAuthorize: the backend decides even for listed tokens; its answer is cached")
    func onlineAsksBackend() {
        let backend = ScriptedBackend(online: true)
        let (s, cache) = service(AuthorizationPolicy(), backend: backend)
        #expect(s.authorize(listed, atUnixMs: now) == .pending)
        #expect(s.authorize(stranger, atUnixMs: now) == .pending)
        #expect(backend.asked == [listed, stranger])
        let answer = AuthorizationInfo(status: .accepted, parentIdToken: IdToken("P"))
        #expect(s.backendAnswered(stranger, answer, atUnixMs: now) == .accepted(answer, .backend))
        #expect(cache.contains(stranger))
        // The local list takes precedence: its tokens are not cached.
        _ = s.backendAnswered(listed, .accepted, atUnixMs: now)
        #expect(!cache.contains(listed))
        backend.reply = .answered(AuthorizationInfo(status: .invalid))
        #expect(s.authorize(IdToken("X"), atUnixMs: now) == .rejected(AuthorizationInfo(status: .invalid), .backend))
    }

    @Test("online with LocalPreAuthorize: list, then cache, accept at once; others go to the backend")
    func preAuthorize() {
        let backend = ScriptedBackend(online: true)
        let (s, _) = service(AuthorizationPolicy(localPreAuthorize: true), backend: backend)
        #expect(s.authorize(listed, atUnixMs: now) == .accepted(.accepted, .localList))
        #expect(s.authorize(cached, atUnixMs: now) == .accepted(.accepted, .cache))
        #expect(backend.asked.isEmpty)
        #expect(s.authorize(blocked, atUnixMs: now) == .pending, "a non-accepted entry is checked with the backend")
    }

    @Test("offline with LocalAuthorizeOffline: list and cache decide; unknown ids per AllowOfflineTxForUnknownId")
    func offline() {
        let backend = ScriptedBackend(online: false)
        let (s, _) = service(AuthorizationPolicy(), backend: backend)
        #expect(s.authorize(listed, atUnixMs: now) == .accepted(.accepted, .localList))
        #expect(s.authorize(cached, atUnixMs: now) == .accepted(.accepted, .cache))
        #expect(!s.authorize(blocked, atUnixMs: now).isAccepted)
        #expect(s.authorize(stranger, atUnixMs: now) == .rejected(AuthorizationInfo(status: .unknown), .offlinePolicy))
        s.policy.allowOfflineTxForUnknownId = true
        #expect(s.authorize(stranger, atUnixMs: now) == .accepted(.accepted, .offlinePolicy))
        #expect(!s.authorize(blocked, atUnixMs: now).isAccepted, "known and blocked is not unknown")
        #expect(backend.asked.isEmpty)
    }

    @Test("offline without LocalAuthorizeOffline: known tokens are refused, unknown ones per policy")
    func offlineWithoutLocal() {
        let (s, _) = service(AuthorizationPolicy(localAuthorizeOffline: false, allowOfflineTxForUnknownId: true),
                             backend: ScriptedBackend(online: false))
        #expect(!s.authorize(listed, atUnixMs: now).isAccepted)
        #expect(s.authorize(stranger, atUnixMs: now).isAccepted)
    }

    @Test("a backend that fails to answer falls back to the offline policies")
    func backendFails() {
        let backend = ScriptedBackend(online: true, reply: .unreachable)
        let (s, _) = service(AuthorizationPolicy(), backend: backend)
        #expect(s.authorize(cached, atUnixMs: now) == .accepted(.accepted, .cache))
        backend.reply = .pending
        #expect(s.authorize(stranger, atUnixMs: now) == .pending)
        #expect(!s.backendFailed(stranger, atUnixMs: now).isAccepted)
    }

    @Test("disabled list and cache are skipped")
    func disabledSources() {
        let (s, _) = service(AuthorizationPolicy(localListEnabled: false, cacheEnabled: false, allowOfflineTxForUnknownId: false),
                             backend: ScriptedBackend(online: false))
        #expect(!s.authorize(listed, atUnixMs: now).isAccepted)
        #expect(!s.authorize(cached, atUnixMs: now).isAccepted)
    }

    @Test("an expired entry counts as expired")
    func expiry() {
        let list = InMemoryLocalAuthorizationList(version: 1, entries: [listed: AuthorizationInfo(status: .accepted, expiresAtUnixMs: 500)])
        let s = AuthorizationService(policy: AuthorizationPolicy(mode: .localListOnly), localList: list,
                                     cache: InMemoryAuthorizationCache(capacity: 1))
        #expect(s.authorize(listed, atUnixMs: 499).isAccepted)
        #expect(s.authorize(listed, atUnixMs: 500).info?.status == .expired)
    }

    @Test("offline: a cached or listed entry past its expiry is refused as expired, before it is accepted")
    func offlineExpiry() {
        let list = InMemoryLocalAuthorizationList(version: 1, entries: [listed: AuthorizationInfo(status: .accepted, expiresAtUnixMs: 500)])
        let cache = InMemoryAuthorizationCache(capacity: 4)
        cache.put(cached, AuthorizationInfo(status: .accepted, expiresAtUnixMs: 500), atUnixMs: 0)
        let s = AuthorizationService(policy: AuthorizationPolicy(allowOfflineTxForUnknownId: true), localList: list,
                                     cache: cache, backend: ScriptedBackend(online: false))
        #expect(s.authorize(cached, atUnixMs: 499) == .accepted(AuthorizationInfo(status: .accepted, expiresAtUnixMs: 500), .cache))
        #expect(s.authorize(cached, atUnixMs: 500).info?.status == .expired)
        #expect(!s.authorize(cached, atUnixMs: 500).isAccepted, "known and expired is not unknown")
        #expect(s.authorize(listed, atUnixMs: 499).isAccepted)
        #expect(s.authorize(listed, atUnixMs: 10_000) == .rejected(AuthorizationInfo(status: .expired, expiresAtUnixMs: 500), .localList))
    }

    @Test("a backend answer learned outside an authorization (a StartTransaction's) is cached unless the list names it")
    func rememberedAnswer() {
        let (s, cache) = service(AuthorizationPolicy(), backend: ScriptedBackend(online: false))
        s.remember(stranger, AuthorizationInfo(status: .blocked), atUnixMs: now)
        #expect(cache.get(stranger, atUnixMs: now)?.status == .blocked)
        s.remember(listed, AuthorizationInfo(status: .blocked), atUnixMs: now)
        #expect(!cache.contains(listed))
        #expect(s.authorize(listed, atUnixMs: now).isAccepted)
        s.policy.cacheEnabled = false
        s.remember(IdToken("OTHER"), .accepted, atUnixMs: now)
        #expect(!cache.contains(IdToken("OTHER")))
    }

    @Test("the standalone default backend is offline")
    func noBackend() {
        let s = AuthorizationService(policy: AuthorizationPolicy(), localList: InMemoryLocalAuthorizationList(),
                                     cache: InMemoryAuthorizationCache(capacity: 1))
        #expect(s.authorize(stranger, atUnixMs: now) == .rejected(AuthorizationInfo(status: .unknown), .offlinePolicy))
    }
}

@Suite("Authorization cache and local list")
struct AuthorizationStoreTests {
    @Test("eviction: not-accepted first, then expired, then least recently used")
    func evictionOrder() {
        let cache = InMemoryAuthorizationCache(capacity: 3)
        let a = IdToken("A"), b = IdToken("B"), c = IdToken("C")
        cache.put(a, .accepted, atUnixMs: 1)
        cache.put(b, AuthorizationInfo(status: .accepted, expiresAtUnixMs: 50), atUnixMs: 2)
        cache.put(c, AuthorizationInfo(status: .blocked), atUnixMs: 3)
        cache.put(IdToken("D"), .accepted, atUnixMs: 100)
        #expect(!cache.contains(c), "the blocked entry goes first")
        cache.put(IdToken("E"), .accepted, atUnixMs: 101)
        #expect(!cache.contains(b), "then the expired one")
        _ = cache.get(a, atUnixMs: 200)  // A used recently: D is now the least recently used
        cache.put(IdToken("F"), .accepted, atUnixMs: 201)
        #expect(cache.contains(a) && !cache.contains(IdToken("D")))
        #expect(cache.count == 3)
    }

    @Test("replacing an entry in a full cache evicts nothing; evict and clear")
    func replaceEvictClear() {
        let cache = InMemoryAuthorizationCache(capacity: 2)
        cache.put(IdToken("A"), .accepted, atUnixMs: 1)
        cache.put(IdToken("B"), .accepted, atUnixMs: 2)
        cache.put(IdToken("A"), AuthorizationInfo(status: .blocked), atUnixMs: 3)
        #expect(cache.count == 2)
        #expect(cache.get(IdToken("A"), atUnixMs: 4)?.status == .blocked)
        cache.evict(IdToken("A"))
        #expect(!cache.contains(IdToken("A")))
        cache.clear()
        #expect(cache.count == 0)
    }

    @Test("the eviction policy is deterministic on ties")
    func policyTies() {
        let entries = [AuthorizationCacheEntry(idToken: IdToken("B"), info: .accepted, lastUsedUnixMs: 5),
                       AuthorizationCacheEntry(idToken: IdToken("A"), info: .accepted, lastUsedUnixMs: 5)]
        #expect(AuthorizationCachePolicy.victim(among: entries, atUnixMs: 0) == IdToken("A"))
        #expect(AuthorizationCachePolicy.victim(among: [AuthorizationCacheEntry](), atUnixMs: 0) == nil)
    }

    @Test("local list: full replaces, differential adds and removes, versions are checked; a bad update changes nothing")
    func localListUpdates() throws {
        let list = InMemoryLocalAuthorizationList()
        let a = IdToken("A"), b = IdToken("B")
        try list.apply(LocalAuthorizationListUpdate(version: 3, kind: .full, entries: [.init(idToken: a, info: .accepted)]))
        #expect(list.version == 3 && list.entry(for: a) == .accepted)
        try list.apply(LocalAuthorizationListUpdate(version: 4, kind: .differential, entries: [
            .init(idToken: b, info: .accepted), .init(idToken: a, info: nil),
        ]))
        #expect(list.entry(for: a) == nil && list.entry(for: b) == .accepted)
        #expect(throws: LocalAuthorizationListError.versionMismatch(installed: 4, update: 4)) {
            try list.apply(LocalAuthorizationListUpdate(version: 4, kind: .differential, entries: [.init(idToken: a, info: .accepted)]))
        }
        #expect(throws: LocalAuthorizationListError.self) {
            try list.apply(LocalAuthorizationListUpdate(version: 9, kind: .full, entries: [
                .init(idToken: a, info: .accepted), .init(idToken: a, info: .accepted),
            ]))
        }
        #expect(list.version == 4 && list.entry(for: a) == nil)
        try list.apply(LocalAuthorizationListUpdate(version: 0, kind: .full, entries: []))
        #expect(list.count == 0)
    }

    @Test("an emptied list has version 0, by a full update without entries or a differential one removing the last")
    func emptiedListHasVersionZero() throws {
        let list = InMemoryLocalAuthorizationList()
        let a = IdToken("A")
        try list.apply(LocalAuthorizationListUpdate(version: 3, kind: .full, entries: [.init(idToken: a, info: .accepted)]))
        try list.apply(LocalAuthorizationListUpdate(version: 7, kind: .full, entries: []))
        #expect(list.count == 0 && list.version == 0)
        try list.apply(LocalAuthorizationListUpdate(version: 1, kind: .differential, entries: [.init(idToken: a, info: .accepted)]))
        #expect(list.version == 1)
        try list.apply(LocalAuthorizationListUpdate(version: 2, kind: .differential, entries: [.init(idToken: a, info: nil)]))
        #expect(list.count == 0 && list.version == 0)
    }
}
