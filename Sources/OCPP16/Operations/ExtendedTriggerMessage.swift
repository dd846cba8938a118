import OCPP16Messages

/// ExtendedTriggerMessage (CSMS → charge point): the message is sent after the answer.
extension OCPP16ChargePoint {
    func extendedTriggerMessage(_ request: ExtendedTriggerMessageRequest) -> ExtendedTriggerMessageResponse {
        let connectors = connectorsNow()
        if let id = request.connectorId, !connectors.contains(where: { $0.id == id }) {
            return ExtendedTriggerMessageResponse(status: .rejected)
        }
        switch request.requestedMessage {
        case .signChargePointCertificate:
            guard security.stationKeys != nil else { return ExtendedTriggerMessageResponse(status: .rejected) }
            Task { await self.requestClientCertificate() }
        case .bootNotification:
            let boot = BootNotificationOperation.request(identity)
            Task { _ = try? await self.send(boot) }
        case .heartbeat:
            Task { _ = try? await self.send(HeartbeatRequest()) }
        case .statusNotification:
            let now = unixMs()
            var requests: [StatusNotificationRequest] = []
            if request.connectorId == nil {
                let allUnavailable = !connectors.isEmpty && connectors.allSatisfy { $0.status == .unavailable }
                requests.append(Self.statusRequest(connectorId: 0, status: allUnavailable ? .unavailable : .available, error: nil, atUnixMs: now))
            }
            for c in connectors where request.connectorId == nil || request.connectorId == c.id {
                let status = latestStatus[c.id]?.0 ?? c.status ?? .available
                requests.append(Self.statusRequest(connectorId: c.id, status: status, error: latestStatus[c.id]?.1 ?? c.error, atUnixMs: now))
            }
            Task { for r in requests { _ = try? await self.send(r) } }
        default:
            return ExtendedTriggerMessageResponse(status: .notImplemented)
        }
        return ExtendedTriggerMessageResponse(status: .accepted)
    }
}
