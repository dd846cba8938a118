import StationPort
import ChargingCore
import OCPP16Messages
import OCPPTransport

/// What a TriggerMessage asks for, decided before answering: the status to answer and the
/// messages to send after the answer (built from the station as it is now).
public enum TriggerService {
    public enum Message: Sendable, Hashable {
        case bootNotification
        case heartbeat
        case diagnosticsStatus
        case firmwareStatus
        case meterValues(MeterValuesRequest)
        case statusNotification(connectorId: Int)
    }

    public struct Plan: Sendable, Hashable {
        public var status: TriggerMessageResponse.TriggerMessageStatus
        public var messages: [Message]
    }

    /// `connectorId` must name a connector when given (0 means the charge point, which only a
    /// StatusNotification reports); MeterValues and StatusNotification without one cover all.
    public static func plan(_ request: TriggerMessageRequest, connectors: [ConnectorSnapshot],
                            measurands: [Measurand], transactionId: (Session) -> Int?, atUnixMs: UInt64) -> Plan {
        if let id = request.connectorId, id < 0 || id > connectors.count {
            return Plan(status: .rejected, messages: [])
        }
        switch request.requestedMessage {
        case .bootNotification: return Plan(status: .accepted, messages: [.bootNotification])
        case .heartbeat: return Plan(status: .accepted, messages: [.heartbeat])
        case .diagnosticsStatusNotification: return Plan(status: .accepted, messages: [.diagnosticsStatus])
        case .firmwareStatusNotification: return Plan(status: .accepted, messages: [.firmwareStatus])
        case .statusNotification:
            let ids = request.connectorId.map { [$0] } ?? [0] + connectors.map(\.id)
            return Plan(status: .accepted, messages: ids.map { .statusNotification(connectorId: $0) })
        case .meterValues:
            if request.connectorId == 0 { return Plan(status: .rejected, messages: []) }
            let chosen = connectors.filter { request.connectorId == nil || $0.id == request.connectorId }
            let wanted = measurands.isEmpty ? [Measurand.energyActiveImportRegister] : measurands
            let messages: [Message] = chosen.compactMap { c in
                guard let value = MeterValuesOperation.meterValue(c, measurands: wanted, context: .trigger, atUnixMs: atUnixMs)
                    ?? MeterValuesOperation.meterValue(c, measurands: [.energyActiveImportRegister], context: .trigger, atUnixMs: atUnixMs)
                else { return nil }
                return .meterValues(MeterValuesRequest(connectorId: c.id, transactionId: c.session.flatMap(transactionId),
                                                       meterValue: [value]))
            }
            // Accepted even when no meter has a reading: the trigger was understood, there is nothing to send.
            return Plan(status: .accepted, messages: messages)
        }
    }
}

extension TriggerService {
    /// RemoteTrigger: the triggered message goes after the reply (`afterReply`).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.registerAnswering(TriggerMessageRequest.self) { chargePoint, request in
            let (response, then) = await chargePoint.triggerMessage(request)
            return OCPPCallAnswer(.success(response.toJSON()), afterReply: then)
        }
    }
}
