import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// ClearVariableMonitoring (N06): removes the CSMS's monitors by id.
extension OCPP201ChargingStation {
    func clearVariableMonitoring(_ request: ClearVariableMonitoringRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(ClearVariableMonitoringRequest.action) }
        if let violation = model.limitsExceeded(request) { return Self.refused(violation) }
        return OCPPCallAnswer(.success(model.clearVariableMonitoring(request).toJSON()))
    }
}
