import ChargingCore
import OCPP201Messages
import OCPPJSON
import Storage

/// SendLocalList (D01): Full replaces the list, Differential changes it (an entry without
/// idTokenInfo is removed). The version rules are the core's (`LocalAuthorizationListUpdate`);
/// a refused update changes nothing.
extension OCPP201ChargingStation {
    func sendLocalList(_ request: SendLocalListRequest) -> SendLocalListResponse {
        func failed(_ why: String) -> SendLocalListResponse {
            logger.warning("SendLocalList \(request.versionNumber): \(why)")
            return SendLocalListResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("Failed", why))
        }
        guard settings.localAuthListEnabled else {
            return SendLocalListResponse(status: .failed, statusInfo: OCPP201Terms.statusInfo("ListDisabled", "LocalAuthListCtrlr.Enabled is false"))
        }
        let data = request.localAuthorizationList ?? []
        if data.count > settings.localAuthListItemsPerMessage {
            return failed("\(data.count) entries, ItemsPerMessage is \(settings.localAuthListItemsPerMessage)")
        }
        var records: [String: AuthorizationRecord] = [:]
        var entries: [LocalAuthorizationListUpdate.Entry] = []
        entries.reserveCapacity(data.count)
        for d in data {
            var info: AuthorizationInfo?
            if let tokenInfo = d.idTokenInfo {
                guard let record = Self.record(d.idToken.idToken, tokenInfo) else {
                    return failed("entry \(d.idToken.idToken): cacheExpiryDateTime is not a date")
                }
                records[d.idToken.idToken] = record
                info = OCPP201Terms.authorizationInfo(tokenInfo)
            }
            entries.append(.init(idToken: OCPP201Terms.idToken(d.idToken), info: info))
        }
        let kind: LocalAuthorizationListUpdate.Kind = request.updateType == .full ? .full : .differential
        let installed: Int
        do { installed = try localList.currentVersion() } catch { return failed("local list version not readable: \(error)") }
        do {
            try LocalAuthorizationListUpdate(version: request.versionNumber, kind: kind, entries: entries).validate(installedVersion: installed)
        } catch .versionMismatch {
            return SendLocalListResponse(status: .versionMismatch)
        } catch {
            return failed(error.description)
        }
        do {
            switch kind {
            case .full:
                let kept = data.compactMap { records[$0.idToken.idToken] }
                if kept.count > settings.localAuthListEntries { return failed("\(kept.count) entries, the list holds \(settings.localAuthListEntries)") }
                try localList.fullUpdate(version: request.versionNumber, entries: kept)
            case .differential:
                var length = try localList.count()
                for d in data {
                    let present = try localList.lookup(d.idToken.idToken) != nil
                    if records[d.idToken.idToken] != nil, !present { length += 1 }
                    if records[d.idToken.idToken] == nil, present { length -= 1 }
                }
                if length > settings.localAuthListEntries {
                    return failed("\(length) entries after the update, the list holds \(settings.localAuthListEntries)")
                }
                try localList.differentialUpdate(version: request.versionNumber, changes: data.map { d in
                    records[d.idToken.idToken].map { .upsert($0) } ?? .remove(idToken: d.idToken.idToken)
                })
            }
        } catch {
            return failed("local list not stored: \(error)")
        }
        return SendLocalListResponse(status: .accepted)
    }

    static func record(_ idToken: String, _ info: IdTokenInfoType) -> AuthorizationRecord? {
        var expiresAt: Int64?
        if let text = info.cacheExpiryDateTime {
            guard let ms = OCPPTimestamp.unixMs(text) else { return nil }
            expiresAt = Int64(ms / 1_000)
        }
        let status = StoredAuthorizationStatus(rawValue: info.status.rawValue) ?? .invalid
        return AuthorizationRecord(idToken: idToken, status: status, expiresAt: expiresAt, parentIdToken: info.groupIdToken?.idToken)
    }
}
