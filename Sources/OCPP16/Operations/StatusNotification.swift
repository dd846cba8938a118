import ChargingCore
import OCPP16Messages

/// StatusNotification (charge point → CSMS): the core's connector status as is; the error kinds
/// 1.6 has no code for become OtherError with a vendor error code.
enum StatusNotificationOperation {
    static func errorCode(_ error: ConnectorErrorKind?) -> (StatusNotificationRequest.ChargePointErrorCode, String?) {
        guard let error else { return (.noError, nil) }
        switch error {
        case .groundFailure: return (.groundFailure, nil)
        case .powerSwitchFailure: return (.powerSwitchFailure, nil)
        case .meterFailure: return (.powerMeterFailure, nil)
        case .lockFailure: return (.connectorLockFailure, nil)
        case .readerFailure: return (.readerFailure, nil)
        case .overCurrent: return (.overCurrentFailure, nil)
        case .overTemperature: return (.highTemperature, nil)
        case .internalError: return (.internalError, nil)
        case .emergencyStop, .pilotFault, .diodeFault, .gridMeterFailure: return (.otherError, error.rawValue)
        }
    }
}
