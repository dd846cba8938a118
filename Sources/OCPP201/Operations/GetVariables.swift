import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// GetVariables (B06): the device model answers each item (Accepted, Rejected for a write-only
/// value, UnknownComponent, UnknownVariable, NotSupportedAttributeType). A request with more
/// items or bytes than DeviceDataCtrlr.ItemsPerMessage / BytesPerMessage[GetVariables] allow is
/// refused whole with a CALLERROR (B06.FR.16/17).
extension OCPP201ChargingStation {
    func getVariables(_ request: GetVariablesRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(GetVariablesRequest.action) }
        if let violation = model.limitsExceeded(request) { return Self.refused(violation) }
        return OCPPCallAnswer(.success(model.getVariables(request).toJSON()))
    }
}
