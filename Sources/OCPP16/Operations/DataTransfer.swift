import ChargingCore
import OCPP16Messages

/// DataTransfer (CSMS → charge point): routed by vendorId to the extension's handler; any other
/// vendorId is UnknownVendorId.
///
/// - `org.openchargealliance.costmsg`: California Pricing (`CaliforniaPricingService`).
/// - `org.swiftevse`: SwiftEVSE's own extensions:
///
///   messageId `SetChargingMode`, data `fast`, `pv` or `min+pv` (the text itself, or a JSON
///   object `{"mode":"pv"}` as text): energy management's charging mode, kept across restarts.
///   Accepted; Rejected when the board has no grid meter or the data names no mode.
///
/// Other messageIds of a known vendor are UnknownMessageId.
extension OCPP16ChargePoint {
    static let swiftEVSEVendorId = "org.swiftevse"

    func dataTransfer(_ request: DataTransferRequest) async -> DataTransferResponse {
        switch request.vendorId {
        case CaliforniaPricingService.vendorId: return californiaPricingDataTransfer(request)
        case Self.swiftEVSEVendorId: return await swiftEVSEDataTransfer(request)
        default: return DataTransferResponse(status: .unknownVendorId)
        }
    }

    func swiftEVSEDataTransfer(_ request: DataTransferRequest) async -> DataTransferResponse {
        switch request.messageId {
        case "SetChargingMode"?:
            guard let mode = Self.chargingMode(in: request.data) else {
                return DataTransferResponse(status: .rejected, data: "data must be one of: \(ChargingMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let answer = await station.request(.setChargingMode(mode))
            return DataTransferResponse(status: answer == .accepted ? .accepted : .rejected, data: mode.rawValue)
        default:
            return DataTransferResponse(status: .unknownMessageId)
        }
    }

    /// `pv`, or `{"mode":"pv"}`.
    static func chargingMode(in data: String?) -> ChargingMode? {
        guard let text = data?.trimmingCharacters(in: " "), !text.isEmpty else { return nil }
        if let mode = ChargingMode(rawValue: text) { return mode }
        guard case let .object(fields)? = try? JSONParser.parse(text), case let .string(name)? = fields["mode"] else { return nil }
        return ChargingMode(rawValue: name)
    }
}
