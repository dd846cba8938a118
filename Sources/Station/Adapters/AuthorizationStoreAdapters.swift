import ChargingCore
import Storage

/// The core's local-list lookup over the SQLite store: one indexed query per token, so a
/// 50,000-entry list never sits in memory. A storage error reads as "not on the list" (and is
/// logged by the caller's error handler): the offline policies then decide, never a crash.
final class StoredLocalAuthorizationList: LocalAuthorizationListLookup {
    let store: LocalAuthorizationListStore
    let onError: (any Error) -> Void

    init(store: LocalAuthorizationListStore, onError: @escaping (any Error) -> Void) {
        self.store = store
        self.onError = onError
    }

    var version: Int {
        do { return try store.currentVersion() } catch { onError(error); return 0 }
    }

    func entry(for idToken: IdToken) -> AuthorizationInfo? {
        do { return try store.lookup(idToken.value).map(AuthorizationInfo.init(record:)) } catch { onError(error); return nil }
    }
}

/// The core's authorization cache over the SQLite store (bounded, eviction done by the store).
final class StoredAuthorizationCache: AuthorizationCacheStoring {
    let store: AuthorizationCacheStore
    let onError: (any Error) -> Void

    init(store: AuthorizationCacheStore, onError: @escaping (any Error) -> Void) {
        self.store = store
        self.onError = onError
    }

    func get(_ idToken: IdToken, atUnixMs unixMs: UInt64) -> AuthorizationInfo? {
        do { return try store.lookup(idToken.value, now: Int64(unixMs / 1_000)).map(AuthorizationInfo.init(record:)) }
        catch { onError(error); return nil }
    }

    func put(_ idToken: IdToken, _ info: AuthorizationInfo, atUnixMs unixMs: UInt64) {
        do { try store.put(info.record(for: idToken), now: Int64(unixMs / 1_000)) } catch { onError(error) }
    }

    func evict(_ idToken: IdToken) {
        do { _ = try store.remove(idToken.value) } catch { onError(error) }
    }

    func clear() {
        do { try store.clear() } catch { onError(error) }
    }
}

extension AuthorizationInfo {
    init(record: AuthorizationRecord) {
        let status: AuthorizationStatus
        switch record.status {
        case .accepted: status = .accepted
        case .blocked: status = .blocked
        case .expired: status = .expired
        case .invalid: status = .invalid
        case .concurrentTx: status = .concurrentTx
        case .noCredit: status = .noCredit
        case .notAllowedTypeEVSE: status = .notAllowedTypeEVSE
        case .notAtThisLocation: status = .notAtThisLocation
        case .notAtThisTime: status = .notAtThisTime
        case .unknown: status = .unknown
        }
        self.init(status: status, parentIdToken: record.parentIdToken.map { IdToken($0) },
                  expiresAtUnixMs: record.expiresAt.map { UInt64(max(0, $0)) * 1_000 })
    }

    func record(for idToken: IdToken) -> AuthorizationRecord {
        let stored: StoredAuthorizationStatus
        switch status {
        case .accepted: stored = .accepted
        case .blocked: stored = .blocked
        case .expired: stored = .expired
        case .invalid: stored = .invalid
        case .concurrentTx: stored = .concurrentTx
        case .noCredit: stored = .noCredit
        case .notAllowedTypeEVSE: stored = .notAllowedTypeEVSE
        case .notAtThisLocation: stored = .notAtThisLocation
        case .notAtThisTime: stored = .notAtThisTime
        case .unknown: stored = .unknown
        }
        return AuthorizationRecord(idToken: idToken.value, status: stored,
                                   expiresAt: expiresAtUnixMs.map { Int64($0 / 1_000) },
                                   parentIdToken: parentIdToken?.value)
    }
}

extension DemoCard.Status {
    var stored: StoredAuthorizationStatus {
        switch self {
        case .accepted: return .accepted
        case .blocked: return .blocked
        case .expired: return .expired
        case .invalid: return .invalid
        }
    }
}
