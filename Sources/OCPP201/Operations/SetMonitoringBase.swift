import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// SetMonitoringBase (N02): which monitors are active (All, FactoryDefault, HardWiredOnly).
extension OCPP201ChargingStation {
    func setMonitoringBase(_ request: SetMonitoringBaseRequest) -> OCPPCallAnswer {
        guard let model = deviceModel else { return Self.deviceModelMissing(SetMonitoringBaseRequest.action) }
        return OCPPCallAnswer(.success(model.setMonitoringBase(request).toJSON()))
    }
}
