import ChargingCore
import OCPP16Messages
import Storage

/// The LocalAuthListManagement profile over the station's local list store: the 1.6 version
/// rules, the size limits of the configuration keys, and the translation of `AuthorizationData`
/// into stored records. The core reads the same store when a card is presented.
public struct LocalListService: Sendable {
    public enum Outcome: Sendable, Hashable {
        case accepted
        case notSupported
        case versionMismatch
        /// What went wrong (too many entries, a bad entry, a storage error).
        case failed(String)
    }

    private let store: LocalAuthorizationListStore?

    /// A nil store: the station keeps no list (every update fails).
    public init(store: LocalAuthorizationListStore?) {
        self.store = store
    }

    /// The installed version; -1 when the list is disabled (OCPP 1.6 GetLocalListVersion), 0 when
    /// the list is empty (the store keeps 0 for an emptied list) or cannot be read.
    public func version(enabled: Bool) -> Int {
        guard enabled else { return -1 }
        return (try? store?.currentVersion()) ?? 0
    }

    /// Applies a SendLocalList; a refused update changes nothing.
    public func apply(_ request: SendLocalListRequest, enabled: Bool, maxEntriesPerMessage: Int, maxListLength: Int) -> Outcome {
        guard enabled else { return .notSupported }
        guard let store else { return .failed("the station keeps no local list") }
        let data = request.localAuthorizationList ?? []
        if data.count > maxEntriesPerMessage {
            return .failed("\(data.count) entries, SendLocalListMaxLength is \(maxEntriesPerMessage)")
        }
        let installed: Int
        do { installed = try store.currentVersion() } catch { return .failed("local list version not readable: \(error)") }
        var entries: [LocalAuthorizationListUpdate.Entry] = []
        var records: [String: AuthorizationRecord] = [:]
        entries.reserveCapacity(data.count)
        for d in data {
            var info: AuthorizationInfo?
            if let tagInfo = d.idTagInfo {
                guard let record = Self.record(d.idTag, tagInfo) else {
                    return .failed("entry \(d.idTag): expiryDate '\(tagInfo.expiryDate ?? "")' is not a date")
                }
                records[d.idTag] = record
                info = AuthorizeOperation.info(tagInfo)
            }
            entries.append(.init(idToken: IdToken(d.idTag, kind: .central), info: info))
        }
        let kind: LocalAuthorizationListUpdate.Kind = request.updateType == .full ? .full : .differential
        let update = LocalAuthorizationListUpdate(version: request.listVersion, kind: kind, entries: entries)
        do {
            try update.validate(installedVersion: installed)
        } catch .versionMismatch {
            return .versionMismatch
        } catch {
            return .failed(error.description)
        }
        do {
            switch kind {
            case .full:
                let kept = data.compactMap { records[$0.idTag] }
                if kept.count > maxListLength { return .failed("\(kept.count) entries, LocalAuthListMaxLength is \(maxListLength)") }
                try store.fullUpdate(version: request.listVersion, entries: kept)
            case .differential:
                let changes: [LocalAuthorizationListChange] = data.map { d in
                    records[d.idTag].map { .upsert($0) } ?? .remove(idToken: d.idTag)
                }
                var length = try store.count()
                for d in data {
                    let present = try store.lookup(d.idTag) != nil
                    if records[d.idTag] != nil, !present { length += 1 }
                    if records[d.idTag] == nil, present { length -= 1 }
                }
                if length > maxListLength { return .failed("\(length) entries after the update, LocalAuthListMaxLength is \(maxListLength)") }
                try store.differentialUpdate(version: request.listVersion, changes: changes)
            }
        } catch {
            return .failed("local list not stored: \(error)")
        }
        return .accepted
    }

    static func record(_ idTag: String, _ info: IdTagInfo) -> AuthorizationRecord? {
        var expiresAt: Int64?
        if let text = info.expiryDate {
            guard let ms = OCPP16Timestamp.unixMs(text) else { return nil }
            expiresAt = Int64(ms / 1_000)
        }
        let status = StoredAuthorizationStatus(rawValue: info.status.rawValue) ?? .invalid
        return AuthorizationRecord(idToken: idTag, status: status, expiresAt: expiresAt, parentIdToken: info.parentIdTag)
    }
}

extension LocalListService {
    /// LocalAuthListManagement.
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(SendLocalListRequest.self) { chargePoint, request in chargePoint.sendLocalList(request) }
        registry.register(GetLocalListVersionRequest.self) { chargePoint, request in chargePoint.getLocalListVersion(request) }
    }
}
