import FirmwareUpdate
import OCPP16Messages

extension FirmwareService {
    /// FirmwareManagement's UpdateFirmware and the whitepaper's SignedUpdateFirmware (registered
    /// only where the service runs). The update itself is the shared `FirmwareService`.
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.registerAnswering(UpdateFirmwareRequest.self) { chargePoint, request in await chargePoint.answerUpdateFirmware(request) }
        registry.register(SignedUpdateFirmwareRequest.self) { chargePoint, request in await chargePoint.signedUpdateFirmware(request) }
    }
}
