import ChargingCore
import OCPP16Messages
import StationPort

/// StatusNotification: the core's status changes, each reported once it held for
/// MinimumStatusDuration, in order, while registered and connected; connector 0 stands for the
/// charge point as a whole; after a boot or a reconnect, every connector's status now.
struct StatusNotificationState {
    /// A status as the CSMS was (or will be) told it.
    struct ReportedStatus: Hashable {
        var status: ConnectorStatus
        var error: ConnectorErrorKind?
    }

    /// StatusNotifications owed to the CSMS, oldest first.
    var queue: [StatusNotificationRequest] = []
    /// The latest status of each connector (0 = the charge point), for the report after boot.
    var latest: [Int: (ConnectorStatus, ConnectorErrorKind?)] = [:]
    /// What the CSMS was last told (or will be: queued) per connector, and a counter per
    /// connector that tells a status that held for MinimumStatusDuration from one that did not.
    var reported: [Int: ReportedStatus] = [:]
    var generation: [Int: Int] = [:]
    /// The connectors as last asked of the station (for connector 0's status between reports).
    var knownConnectors: [ConnectorSnapshot] = []
}

extension OCPP16ChargePoint {
    typealias ReportedStatus = StatusNotificationState.ReportedStatus

    /// What to report for `id` now (0: the charge point as a whole, Unavailable only when every
    /// connector is): for the report after boot and for TriggerMessage / ExtendedTriggerMessage.
    func currentStatusRequest(_ id: Int, connectors: [ConnectorSnapshot], atUnixMs now: UInt64)
        -> StatusNotificationRequest
    {
        if id == 0 {
            let status = Self.chargePointStatus(connectors.map { statuses.latest[$0.id]?.0 ?? $0.status })
            return Self.statusRequest(connectorId: 0, status: status, error: nil, atUnixMs: now)
        }
        let c = connectors.first { $0.id == id }
        let status = statuses.latest[id]?.0 ?? c?.status ?? .available
        let error = statuses.latest[id]?.1 ?? c?.error
        return Self.statusRequest(connectorId: id, status: status, error: error, atUnixMs: now)
    }

    /// After boot (or a reconnect): the status of connector 0 and of every connector now.
    func queueFullStatusReport() async {
        let now = unixMs()
        let connectors = await self.connectors()
        statuses.queue = ([0] + connectors.map(\.id)).map { currentStatusRequest($0, connectors: connectors, atUnixMs: now) }
        for c in connectors {
            if let latest = statuses.latest[c.id] ?? c.status.map({ ($0, c.error) }) {
                statuses.reported[c.id] = ReportedStatus(status: latest.0, error: latest.1)
            }
        }
        statuses.reported[0] = ReportedStatus(status: Self.chargePointStatus(connectors.map { statuses.latest[$0.id]?.0 ?? $0.status }),
                                           error: nil)
        statusKick.yield()
    }

    /// Connector 0 stands for the charge point as a whole: Unavailable only when every
    /// connector is (after a ChangeAvailability of connector 0, say), Available otherwise.
    static func chargePointStatus(_ connectors: [ConnectorStatus?]) -> ConnectorStatus {
        !connectors.isEmpty && connectors.allSatisfy { $0 == .unavailable } ? .unavailable : .available
    }

    /// A status change of the core, reported once it has held for MinimumStatusDuration seconds
    /// (at once when that is 0). A change that is undone within that time is not reported.
    func statusChanged(_ id: Int, _ status: ConnectorStatus, _ error: ConnectorErrorKind?, atUnixMs at: UInt64) {
        statuses.latest[id] = (status, error)
        let generation = (statuses.generation[id] ?? 0) &+ 1
        statuses.generation[id] = generation
        let minimum = configuration.int("MinimumStatusDuration") ?? 0
        guard minimum > 0 else {
            queueStatus(id, ReportedStatus(status: status, error: error), atUnixMs: at)
            return
        }
        Task {
            await sleep(.seconds(Int64(minimum)))
            statusHeld(id, generation: generation, ReportedStatus(status: status, error: error), atUnixMs: at)
        }
    }

    func statusHeld(_ id: Int, generation: Int, _ status: ReportedStatus, atUnixMs at: UInt64) {
        guard statuses.generation[id] == generation else { return }  // it changed again meanwhile
        guard statuses.reported[id] != status else { return }  // back to what the CSMS knows
        queueStatus(id, status, atUnixMs: at)
    }

    func queueStatus(_ id: Int, _ status: ReportedStatus, atUnixMs at: UInt64) {
        statuses.reported[id] = status
        statuses.queue.append(Self.statusRequest(connectorId: id, status: status.status, error: status.error, atUnixMs: at))
        if id != 0 { queueChargePointStatusIfChanged(atUnixMs: at) }
        if statuses.queue.count > 64 { statuses.queue.removeFirst(statuses.queue.count - 64) }
        statusKick.yield()
    }

    /// Connector 0 follows what the CSMS was told of the connectors: reported once when that
    /// turns it Unavailable or Available again, as the report after a boot would say it (before
    /// the first report there is nothing to follow: that report tells it).
    func queueChargePointStatusIfChanged(atUnixMs at: UInt64) {
        let connectors = statuses.knownConnectors
        let zero = Self.chargePointStatus(connectors.map { c in statuses.reported[c.id]?.status ?? statuses.latest[c.id]?.0 ?? c.status })
        guard let told = statuses.reported[0]?.status, told != zero else { return }
        statuses.reported[0] = ReportedStatus(status: zero, error: nil)
        statuses.queue.append(Self.statusRequest(connectorId: 0, status: zero, error: nil, atUnixMs: at))
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

    static func statusRequest(connectorId: Int, status: ConnectorStatus, error: ConnectorErrorKind?, atUnixMs: UInt64)
        -> StatusNotificationRequest
    {
        let (code, vendorCode) = StatusNotificationOperation.errorCode(error)
        return StatusNotificationRequest(
            connectorId: connectorId, errorCode: code, info: nil,
            status: StatusNotificationRequest.ChargePointStatus(rawValue: status.rawValue) ?? .faulted,
            timestamp: OCPP16Timestamp.string(unixMs: atUnixMs),
            vendorId: vendorCode == nil ? nil : "SwiftEVSE", vendorErrorCode: vendorCode)
    }
}
