import OCPP201Messages
import Storage

typealias EventOrigin = NotifyEventRequest.EventDataType.EventNotificationEnumType

/// A monitor on one variable (SetVariableMonitoring): a threshold or delta the station watches
/// and reports with NotifyEvent.
struct VariableMonitor: Sendable, Equatable {
    var id: Int
    var key: VariableKey
    var type: MonitorEnumType
    var value: Double
    var severity: Int
    var transactionOnly: Bool
    var origin: EventOrigin

    init(id: Int, key: VariableKey, type: MonitorEnumType, value: Double, severity: Int, transactionOnly: Bool,
         origin: EventOrigin) {
        self.id = id
        self.key = key
        self.type = type
        self.value = value
        self.severity = severity
        self.transactionOnly = transactionOnly
        self.origin = origin
    }

    init?(stored: StoredVariableMonitor) {
        guard let type = MonitorEnumType(rawValue: stored.type), let origin = EventOrigin(rawValue: stored.origin) else {
            return nil
        }
        self.init(id: stored.id, key: VariableKey(stored: stored.key), type: type, value: stored.value,
                  severity: stored.severity, transactionOnly: stored.transactionOnly, origin: origin)
    }

    var stored: StoredVariableMonitor {
        StoredVariableMonitor(id: id, key: key.stored, type: type.rawValue, value: value, severity: severity,
                              transactionOnly: transactionOnly, origin: origin.rawValue)
    }
}
