import OCPP201Messages
import OCPPJSON

/// StatusNotification (G01): one per EVSE, its only connector (id 1).
enum StatusNotificationOperation {
    static func request(evseId: Int, _ status: StatusNotificationRequest.ConnectorStatusEnumType, atUnixMs: UInt64)
        -> StatusNotificationRequest
    {
        StatusNotificationRequest(timestamp: OCPPTimestamp.string(unixMs: atUnixMs), connectorStatus: status,
                                  evseId: evseId, connectorId: 1)
    }
}
