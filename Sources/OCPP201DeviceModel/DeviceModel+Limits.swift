import OCPP201Messages
import Locking
import OCPPJSON

/// A request larger than the station said it takes (DeviceDataCtrlr.ItemsPerMessage /
/// BytesPerMessage). OCPP 2.0.1 lets the station refuse the whole CALL: too many items with
/// CALLERROR OccurrenceConstraintViolation (B06.FR.16 for GetVariables, B08.FR.17 for GetReport, and likewise for SetVariables), too many bytes
/// with CALLERROR FormatViolation (B06.FR.17 / B08.FR.18).
public enum DeviceModelLimitViolation: Equatable, Sendable, CustomStringConvertible {
    case tooManyItems(count: Int, limit: Int)
    case tooManyBytes(count: Int, limit: Int)

    /// The OCPP-J CALLERROR code to answer with (2.0.1 spelling).
    public var callErrorCode: String {
        switch self {
        case .tooManyItems: "OccurrenceConstraintViolation"
        case .tooManyBytes: "FormatViolation"
        }
    }

    public var description: String {
        switch self {
        case .tooManyItems(let count, let limit): "\(count) items, ItemsPerMessage is \(limit)"
        case .tooManyBytes(let count, let limit): "\(count) bytes, BytesPerMessage is \(limit)"
        }
    }
}

extension DeviceModel {
    /// Whether a GetVariables request exceeds ItemsPerMessage[GetVariables] or
    /// BytesPerMessage[GetVariables]. `messageBytes` is the size of the CALL frame as received;
    /// without it the payload's own size is used.
    public func limitsExceeded(_ request: GetVariablesRequest, messageBytes: Int? = nil) -> DeviceModelLimitViolation? {
        check(items: request.getVariableData.count, bytes: messageBytes ?? JSONWriter.write(request.toJSON()).count,
              instance: "GetVariables")
    }

    /// Whether a SetVariables request exceeds ItemsPerMessage[SetVariables] or
    /// BytesPerMessage[SetVariables].
    public func limitsExceeded(_ request: SetVariablesRequest, messageBytes: Int? = nil) -> DeviceModelLimitViolation? {
        check(items: request.setVariableData.count, bytes: messageBytes ?? JSONWriter.write(request.toJSON()).count,
              instance: "SetVariables")
    }

    /// Whether a GetReport request names more componentVariable entries than
    /// ItemsPerMessage[GetReport] or is longer than BytesPerMessage[GetReport].
    public func limitsExceeded(_ request: GetReportRequest, messageBytes: Int? = nil) -> DeviceModelLimitViolation? {
        check(items: request.componentVariable?.count ?? 0, bytes: messageBytes ?? JSONWriter.write(request.toJSON()).count,
              instance: "GetReport")
    }

    private func check(items: Int, bytes: Int, instance: String) -> DeviceModelLimitViolation? {
        let (itemLimit, byteLimit) = state.locked { s in
            (s.integer(VariableKey(component: "DeviceDataCtrlr", variable: "ItemsPerMessage", variableInstance: instance),
                       fallback: Int.max),
             s.integer(VariableKey(component: "DeviceDataCtrlr", variable: "BytesPerMessage", variableInstance: instance),
                       fallback: Int.max))
        }
        if items > itemLimit { return .tooManyItems(count: items, limit: itemLimit) }
        if bytes > byteLimit { return .tooManyBytes(count: bytes, limit: byteLimit) }
        return nil
    }
}
