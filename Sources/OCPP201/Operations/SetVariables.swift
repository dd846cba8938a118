import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// SetVariables (B05): each item is checked by the device model (mutability, characteristics,
/// and the station's own checks such as TxStartPoint values it cannot carry out) and stored
/// whole or not at all. Accepted changes reach the running services through the device
/// model's `onChange` (`DeviceModelService.deviceModelChanged`).
extension OCPP201ChargingStation {
    func setVariables(_ request: SetVariablesRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(SetVariablesRequest.action) }
        if let violation = model.limitsExceeded(request) { return Self.refused(violation) }
        return OCPPCallAnswer(.success(model.setVariables(request).toJSON()))
    }
}
