import ChargingCore
import OCPP201Messages
import StationPort

/// Availability (block G): StatusNotification per EVSE/connector (the core's statuses folded
/// into 2.0.1's five), in order, while registered and connected; after a boot or a reconnect the
/// status of every connector now. ChangeAvailability and Reset go to the core, which decides.
struct StatusState {
    /// StatusNotifications owed to the CSMS, oldest first.
    var queue: [StatusNotificationRequest] = []
    /// What the CSMS was last told (or will be: queued) per connector: a change the 2.0.1 fold
    /// hides (Preparing → Charging, both Occupied) is not sent again.
    var reported: [Int: StatusNotificationRequest.ConnectorStatusEnumType] = [:]
}

/// A Reset being carried out, or waiting for the station to go idle.
struct ResetState {
    var inProgress = false
    /// OnIdle with transactions running: the restart comes when the last one ended.
    var whenIdle = false
}

enum AvailabilityService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(ChangeAvailabilityRequest.self) { station, request in await station.changeAvailability(request) }
    }
}

extension OCPP201ChargingStation {
    /// After boot (or a reconnect): every connector's status now.
    func queueFullStatusReport() async {
        let now = unixMs()
        statuses.queue = []
        for c in await connectors() {
            let status = OCPP201Terms.connectorStatus(c.status ?? .available)
            statuses.reported[c.id] = status
            statuses.queue.append(StatusNotificationOperation.request(evseId: c.id, status, atUnixMs: now))
        }
        statusKick.yield()
    }

    /// A status change of the core, reported when the 2.0.1 status it folds into changed.
    func statusChanged(_ id: Int, _ status: ConnectorStatus, atUnixMs at: UInt64) {
        let folded = OCPP201Terms.connectorStatus(status)
        if id == 0 { return }  // 2.0.1 has no connector 0: every EVSE reports its own
        guard statuses.reported[id] != folded else { return }
        statuses.reported[id] = folded
        statuses.queue.append(StatusNotificationOperation.request(evseId: id, folded, atUnixMs: at))
        if statuses.queue.count > 64 { statuses.queue.removeFirst(statuses.queue.count - 64) }
        statusKick.yield()
        if resets.whenIdle { Task { await self.resetIfIdle() } }
    }

    func sendStatusesForever() async {
        for await _ in statusKicks {
            while mayInitiate, !statuses.queue.isEmpty {
                let request = statuses.queue.removeFirst()
                do { _ = try await send(request) } catch {
                    logger.info("StatusNotification: \(error)")
                    if case .connectionLost = error { statuses.queue.insert(request, at: 0) }
                }
            }
        }
    }
}
