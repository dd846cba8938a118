import ChargingCore
import HAL
import Station
import StationPort
import Storage
import Testing

/// The authorization cache as the station keeps it in SQLite: what the backend said about a
/// card, expiry included, decides offline.
@Suite("Station authorization cache")
struct StationAuthorizationCacheTests {
    /// Online mode with a backend that cannot be reached: the offline policies decide.
    func offlineRig() throws -> Rig {
        let rig = try Rig()
        try rig.station.start(at: rig.clock.now())
        rig.station.useAuthorizationBackend(NoAuthorizationBackend(), online: true)
        rig.station.readMetersNow(at: rig.clock.now())
        rig.plug(1)
        #expect(rig.step(until: { rig.view(1)?.pilot == .b }) != nil)
        return rig
    }

    @Test func offlineACardWhoseCachedEntryHasExpiredIsRefusedAndNoSessionStarts() throws {
        let rig = try offlineRig()
        let wall = rig.station.wallClock.unixMilliseconds()
        rig.station.rememberAuthorization(IdToken("EXP1"), AuthorizationInfo(status: .accepted, expiresAtUnixMs: wall - 60_000))
        let stored = try rig.station.storage.authorizationCache.lookup("EXP1", now: Int64(wall / 1_000))
        #expect(stored?.expiresAt == Int64((wall - 60_000) / 1_000), "the expiry is kept with the entry")
        rig.station.presentCard(IdToken("EXP1"), at: rig.clock.now())
        for _ in 0..<100 { rig.step() }
        #expect(rig.view(1)?.session == nil)
        #expect(try rig.station.storage.journal.openSessions().isEmpty)
    }

    @Test func offlineACardCachedUntilLaterStillStarts() throws {
        let rig = try offlineRig()
        let wall = rig.station.wallClock.unixMilliseconds()
        rig.station.rememberAuthorization(IdToken("FRESH1"), AuthorizationInfo(status: .accepted, expiresAtUnixMs: wall + 3_600_000))
        rig.station.presentCard(IdToken("FRESH1"), at: rig.clock.now())
        #expect(rig.step(until: { rig.view(1)?.session != nil }) != nil)
        #expect(rig.view(1)?.session?.idToken.value == "FRESH1")
    }

    @Test func theBackendsCacheRulesReachTheStore() throws {
        let rig = try Rig()
        rig.station.apply(AuthorizationRules(localPreAuthorize: false, localAuthorizeOffline: true, allowOfflineTxForUnknownId: false,
                                             cacheEnabled: true, localListEnabled: true, cacheEviction: "FIFO", cacheLifeTimeSeconds: 60))
        #expect(rig.station.storage.authorizationCache.rules == AuthorizationCacheStore.Rules(eviction: .firstInFirstOut, lifeTimeSeconds: 60))
        // A name the store does not know falls back to least recently used.
        rig.station.apply(AuthorizationRules(localPreAuthorize: false, localAuthorizeOffline: true, allowOfflineTxForUnknownId: false,
                                             cacheEnabled: true, localListEnabled: true, cacheEviction: "CUSTOM"))
        #expect(rig.station.storage.authorizationCache.rules == AuthorizationCacheStore.Rules())
    }
}
