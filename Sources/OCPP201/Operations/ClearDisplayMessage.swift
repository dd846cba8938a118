import OCPP201Messages

/// ClearDisplayMessage (O05): Accepted when the station held the message (it leaves storage
/// and the glass), Unknown when it did not.
extension OCPP201ChargingStation {
    func clearDisplayMessage(_ request: ClearDisplayMessageRequest) -> ClearDisplayMessageResponse {
        purgeExpiredDisplayMessages()
        do {
            guard try displayMessages.remove(id: request.id) else { return ClearDisplayMessageResponse(status: .unknown) }
        } catch {
            logger.error("ClearDisplayMessage \(request.id): \(error)")
            return ClearDisplayMessageResponse(status: .unknown, statusInfo: StatusInfoType(reasonCode: "InternalError"))
        }
        station.submit(.removeMessage(id: request.id))
        reportDisplayMessageCount()
        return ClearDisplayMessageResponse(status: .accepted)
    }
}
