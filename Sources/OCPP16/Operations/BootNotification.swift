import OCPP16Messages

/// BootNotification (charge point → CSMS): sent on every connect until Accepted; the answer's
/// interval paces the retries (Pending/Rejected) and the heartbeat (Accepted).
enum BootNotificationOperation {
    static func request(_ identity: OCPP16ChargePoint.Identity) -> BootNotificationRequest {
        BootNotificationRequest(chargePointVendor: String(identity.vendor.prefix(20)),
                                chargePointModel: String(identity.model.prefix(20)),
                                chargePointSerialNumber: identity.serialNumber.map { String($0.prefix(25)) },
                                firmwareVersion: identity.firmwareVersion.map { String($0.prefix(50)) })
    }
}
