import OCPP16Messages
import OCPPTransport

/// ExtendedTriggerMessage (CSMS → charge point): the message is sent after the answer, as the
/// answer's `afterReply` (see TriggerMessage: it never overtakes the .conf).
extension OCPP16ChargePoint {
    func extendedTriggerMessage(_ request: ExtendedTriggerMessageRequest) async
        -> (ExtendedTriggerMessageResponse, OCPPCallAnswer.FollowUp?)
    {
        let connectors = await self.connectors()
        if let id = request.connectorId, !connectors.contains(where: { $0.id == id }) {
            return (ExtendedTriggerMessageResponse(status: .rejected), nil)
        }
        let then: OCPPCallAnswer.FollowUp
        switch request.requestedMessage {
        case .signChargePointCertificate:
            guard security.stationKeys != nil else { return (ExtendedTriggerMessageResponse(status: .rejected), nil) }
            then = { _ = await self.requestClientCertificate() }
        case .bootNotification:
            let boot = BootNotificationOperation.request(identity)
            then = { _ = try? await self.send(boot) }
        case .heartbeat:
            then = { _ = try? await self.send(HeartbeatRequest()) }
        case .statusNotification:
            let now = unixMs()
            let ids = request.connectorId.map { [$0] } ?? [0] + connectors.map(\.id)
            let requests = ids.map { currentStatusRequest($0, connectors: connectors, atUnixMs: now) }
            then = { for r in requests { _ = try? await self.send(r) } }
        case .firmwareStatusNotification where firmware != nil:
            then = { _ = try? await self.send(await self.triggeredSignedFirmwareStatus()) }
        case .logStatusNotification where diagnostics != nil:
            then = { _ = try? await self.send(await self.triggeredLogStatus()) }
        default:
            return (ExtendedTriggerMessageResponse(status: .notImplemented), nil)
        }
        return (ExtendedTriggerMessageResponse(status: .accepted), then)
    }
}
