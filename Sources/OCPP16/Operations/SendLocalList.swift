import OCPP16Messages

/// SendLocalList (CSMS → charge point): a full or differential update of the local list, within
/// SendLocalListMaxLength entries per message and LocalAuthListMaxLength in all.
extension OCPP16ChargePoint {
    func sendLocalList(_ request: SendLocalListRequest) -> SendLocalListResponse {
        let outcome = localList.apply(
            request, enabled: configuration.bool("LocalAuthListEnabled"),
            maxEntriesPerMessage: configuration.int("SendLocalListMaxLength") ?? 0,
            maxListLength: configuration.int("LocalAuthListMaxLength") ?? 0)
        let count = request.localAuthorizationList?.count ?? 0
        switch outcome {
        case .accepted:
            logger.notice("local list: \(request.updateType.rawValue) update to version \(request.listVersion), \(count) entries")
            return SendLocalListResponse(status: .accepted)
        case .notSupported:
            return SendLocalListResponse(status: .notSupported)
        case .versionMismatch:
            logger.warning("local list: \(request.updateType.rawValue) version \(request.listVersion) refused (version mismatch)")
            return SendLocalListResponse(status: .versionMismatch)
        case let .failed(why):
            logger.warning("local list: update to version \(request.listVersion) failed: \(why)")
            return SendLocalListResponse(status: .failed)
        }
    }
}
