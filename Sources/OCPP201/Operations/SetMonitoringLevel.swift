import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// SetMonitoringLevel (N03): monitors of a higher severity number stay silent.
extension OCPP201ChargingStation {
    func setMonitoringLevel(_ request: SetMonitoringLevelRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(SetMonitoringLevelRequest.action) }
        return OCPPCallAnswer(.success(model.setMonitoringLevel(request).toJSON()))
    }
}
