import ChargingCore
import OCPP201Messages
import StationPort

/// DataTransfer (P01), routed by vendorId; any other vendorId is UnknownVendorId.
///
/// - `org.swiftevse`: SwiftEVSE's own extensions, the same as under OCPP 1.6 so an operator's
///   tooling works with either protocol:
///
///   messageId `SetChargingMode`, data `"fast"`, `"pv"` or `"min+pv"` (a JSON string, or an
///   object `{"mode":"pv"}`): energy management's charging mode, kept across restarts. Accepted;
///   Rejected when the board has no grid meter or the data names no mode.
///
///   Other messageIds are UnknownMessageId.
extension OCPP201ChargingStation {
    static let swiftEVSEVendorId = "org.swiftevse"

    func dataTransfer(_ request: DataTransferRequest) async -> DataTransferResponse {
        guard request.vendorId == Self.swiftEVSEVendorId else {
            return DataTransferResponse(status: .unknownVendorId)
        }
        switch request.messageId {
        case "SetChargingMode"?:
            guard let mode = Self.chargingMode(in: request.data) else {
                let modes = ChargingMode.allCases.map(\.rawValue).joined(separator: ", ")
                return DataTransferResponse(status: .rejected, data: .string("data must be one of: \(modes)"))
            }
            let answer = await station.request(.setChargingMode(mode))
            return DataTransferResponse(status: answer == .accepted ? .accepted : .rejected, data: .string(mode.rawValue))
        default:
            return DataTransferResponse(status: .unknownMessageId)
        }
    }

    /// `"pv"`, or `{"mode":"pv"}`.
    static func chargingMode(in data: JSONValue?) -> ChargingMode? {
        switch data {
        case let .string(text)?: return ChargingMode(rawValue: text)
        case let .object(fields)?: return fields["mode"]?.stringValue.flatMap(ChargingMode.init(rawValue:))
        default: return nil
        }
    }
}
