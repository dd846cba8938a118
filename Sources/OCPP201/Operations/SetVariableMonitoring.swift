import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// SetVariableMonitoring (N04): threshold and delta monitors on variables that support
/// monitoring, stored by the device model; the station feeds them real values
/// (`DeviceModelService`). MonitoringCtrlr.ItemsPerMessage / BytesPerMessage bound the request.
extension OCPP201ChargingStation {
    func setVariableMonitoring(_ request: SetVariableMonitoringRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(SetVariableMonitoringRequest.action) }
        if let violation = model.limitsExceeded(request) { return Self.refused(violation) }
        return OCPPCallAnswer(.success(model.setVariableMonitoring(request).toJSON()))
    }
}
