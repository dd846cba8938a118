import FirmwareUpdate
import OCPP201Messages
import OCPPSecurity

/// Functional block L (L01 secure firmware update) on the shared `FirmwareService`: the same
/// job on disk, download with retries, signature check against the installed manufacturer
/// roots, installation when no transaction runs, installer hand-off and restart as the 1.6
/// charge point's. Only signed images are taken. The statuses go out as 2.0.1
/// FirmwareStatusNotification with the update's requestId through the `FileStatusQueue`.
enum FirmwareUpdateService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(UpdateFirmwareRequest.self) { station, request in await station.updateFirmware(request) }
    }
}

extension OCPP201ChargingStation {
    /// What TriggerMessage FirmwareStatusNotification reports: the running update's last
    /// status and requestId, Idle when none runs.
    func triggeredFirmwareStatus() async -> FirmwareStatusNotificationRequest {
        guard let now = await firmware?.triggeredStatus(), now.status != .idle,
              let status = FirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: now.status.rawValue) else {
            return FirmwareStatusNotificationRequest(status: .idle)
        }
        return FirmwareStatusNotificationRequest(status: status, requestId: now.requestId)
    }
}
