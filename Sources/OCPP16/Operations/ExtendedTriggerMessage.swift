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
            let ids = request.connectorId.map { [$0] } ?? [0] + connectors.map(\.id)
            let requests = ids.map { currentStatusRequest($0, connectors: connectors, atUnixMs: now) }
            Task { for r in requests { _ = try? await self.send(r) } }
        case .firmwareStatusNotification where firmware != nil:
            Task { _ = try? await self.send(await self.triggeredSignedFirmwareStatus()) }
        case .logStatusNotification where diagnostics != nil:
            Task { _ = try? await self.send(await self.triggeredLogStatus()) }
        default:
            return ExtendedTriggerMessageResponse(status: .notImplemented)
        }
        return ExtendedTriggerMessageResponse(status: .accepted)
    }
}
