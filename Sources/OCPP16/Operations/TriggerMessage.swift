import OCPP16Messages
import OCPPTransport

/// TriggerMessage (CSMS → charge point): answered first, then the requested message is sent
/// as the charge point would send it on its own. The message goes as the answer's `afterReply`:
/// the RPC layer starts it only once the TriggerMessage.conf is on the wire, so it can never
/// arrive first (a task started here would race the reply's own task).
extension OCPP16ChargePoint {
    func triggerMessage(_ request: TriggerMessageRequest) async -> (TriggerMessageResponse, OCPPCallAnswer.FollowUp?) {
        let plan = TriggerService.plan(request, connectors: await connectors(),
                                       measurands: configuration.measurands("MeterValuesSampledData"),
                                       transactionId: { [transactions] in transactions.transactionId(ofSession: $0.id) },
                                       atUnixMs: unixMs())
        logger.notice("TriggerMessage \(request.requestedMessage.rawValue) \(request.connectorId.map(String.init) ?? "-"): \(plan.status.rawValue)")
        let response = TriggerMessageResponse(status: plan.status)
        guard plan.status == .accepted, !plan.messages.isEmpty else { return (response, nil) }
        let messages = plan.messages
        return (response, { await self.sendTriggered(messages) })
    }

    private func sendTriggered(_ messages: [TriggerService.Message]) async {
        for message in messages {
            do {
                switch message {
                case .bootNotification:
                    let answer = try await send(BootNotificationOperation.request(identity))
                    if answer.status == .accepted, answer.interval > 0 {
                        _ = configuration.change("HeartbeatInterval", to: String(answer.interval))
                        restartHeartbeat()
                    }
                case .heartbeat:
                    _ = try await send(HeartbeatRequest())
                case .diagnosticsStatus:
                    _ = try await send(await triggeredDiagnosticsStatus())
                case .firmwareStatus:
                    _ = try await send(await triggeredFirmwareStatus())
                case let .meterValues(request):
                    _ = try await send(request)
                case let .statusNotification(id):
                    _ = try await send(currentStatusRequest(id, connectors: await connectors(), atUnixMs: unixMs()))
                }
            } catch {
                logger.info("triggered \(message): \(error)")
            }
        }
    }
}
