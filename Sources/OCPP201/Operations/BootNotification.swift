import OCPP201Messages

/// BootNotification (B01–B03): who the station is and why it booted.
enum BootNotificationOperation {
    static func request(_ identity: OCPP201ChargingStation.Identity,
                        reason: BootNotificationRequest.BootReasonEnumType) -> BootNotificationRequest {
        BootNotificationRequest(
            chargingStation: .init(serialNumber: identity.serialNumber.map { String($0.prefix(25)) },
                                   model: String(identity.model.prefix(20)), vendorName: String(identity.vendor.prefix(50)),
                                   firmwareVersion: identity.firmwareVersion.map { String($0.prefix(50)) }),
            reason: reason)
    }
}
