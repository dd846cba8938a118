import OCPP201Messages
import OCPPJSON
import Storage

/// SecurityEventNotification (A04): one logged security event.
enum SecurityEventNotificationOperation {
    static func request(_ event: SecurityEvent) -> SecurityEventNotificationRequest {
        SecurityEventNotificationRequest(type: String(event.kind.prefix(50)),
                                         timestamp: OCPPTimestamp.string(unixMs: UInt64(clamping: event.occurredAtMs)),
                                         techInfo: event.detail.map { String($0.prefix(255)) })
    }
}
