import OCPP201Messages
import OCPPTransport
import StationPort

/// TriggerMessage (F06): the answer first, then the message (the RPC layer starts it once the
/// answer is on the wire). Per EVSE where the message is one: StatusNotification, MeterValues
/// and TransactionEvent of the named EVSE, else of every EVSE. A BootNotification is Rejected
/// once the station is accepted (F06.FR.17); while Pending it is sent at once. Firmware status is
/// the running update's, log status the running upload's (Idle when none). SignChargingStationCertificate
/// starts a SignCertificate (A03).
extension OCPP201ChargingStation {
    func triggerMessage(_ request: TriggerMessageRequest) async -> OCPPCallAnswer {
        func answer(_ status: TriggerMessageResponse.TriggerMessageStatusEnumType, _ info: StatusInfoType? = nil,
                    then followUp: OCPPCallAnswer.FollowUp? = nil) -> OCPPCallAnswer {
            OCPPCallAnswer(.success(TriggerMessageResponse(status: status, statusInfo: info).toJSON()), afterReply: followUp)
        }
        let connectors = await connectors()
        var evses = connectors
        if let evse = request.evse {
            guard let c = connectors.first(where: { $0.id == evse.id }), evse.connectorId == nil || evse.connectorId == 1 else {
                return answer(.rejected, OCPP201Terms.statusInfo("UnknownEvse", "no EVSE \(evse.id)"))
            }
            evses = [c]
        }
        switch request.requestedMessage {
        case .bootNotification:
            guard registration != .accepted else { return answer(.rejected, OCPP201Terms.statusInfo("AlreadyAccepted")) }
            return answer(.accepted) { await self.wakeBoot() }
        case .heartbeat:
            return answer(.accepted) { await self.sendHeartbeat() }
        case .statusNotification:
            let now = unixMs()
            let requests = evses.map { StatusNotificationOperation.request(evseId: $0.id, OCPP201Terms.connectorStatus($0.status ?? .available), atUnixMs: now) }
            return answer(.accepted) { await self.sendTriggered(requests) }
        case .meterValues:
            let now = unixMs()
            let requests = evses.compactMap { c in
                MeterValueSampling.meterValue(c, measurands: settings.alignedDataMeasurands, context: .trigger, atUnixMs: now)
                    .map { MeterValuesRequest(evseId: c.id, meterValue: [$0]) }
            }
            guard !requests.isEmpty else { return answer(.rejected, OCPP201Terms.statusInfo("NoMeterValues", "no meter reading to send")) }
            return answer(.accepted) { await self.sendTriggered(requests) }
        case .transactionEvent:
            let running = evses.filter { $0.session != nil }
            guard !running.isEmpty else { return answer(.rejected, OCPP201Terms.statusInfo("NoTransaction", "no transaction runs there")) }
            return answer(.accepted) { await self.queueTriggeredTransactionEvents(running) }
        case .firmwareStatusNotification:
            return answer(.accepted) { await self.sendTriggered([await self.triggeredFirmwareStatus()]) }
        case .logStatusNotification:
            return answer(.accepted) { await self.sendTriggered([await self.triggeredLogStatus()]) }
        case .signChargingStationCertificate:
            guard pki != nil, identity.serialNumber?.isEmpty == false else {
                return answer(.rejected, OCPP201Terms.statusInfo("NoCertificateStore", "no station key store or serial number"))
            }
            return answer(.accepted) { await self.requestStationCertificate() }
        default:
            // ISO 15118 certificates and local-controller firmware: not in this station.
            return answer(.notImplemented)
        }
    }

    private func sendTriggered<R: OCPP201RequestPayload>(_ requests: [R]) async {
        for request in requests {
            do { _ = try await send(request) } catch { logger.info("triggered \(R.action.rawValue): \(error)") }
        }
    }

    /// An Updated event (Trigger) per running transaction, through the queue like every other.
    private func queueTriggeredTransactionEvents(_ connectors: [ConnectorSnapshot]) {
        let now = unixMs()
        for c in connectors {
            // A transaction begun before its session (TxStartPoint EVConnected or Authorized) too.
            guard let id = transactionId(on: c) else { continue }
            let value = MeterValueSampling.meterValue(c, measurands: settings.sampledDataTxUpdatedMeasurands, context: .trigger, atUnixMs: now)
            transactions.enqueueUpdated(session: id, connectorId: c.id, atUnixMs: now) { seqNo, offline in
                TransactionEventOperation.updated(transactionId: id, evseId: c.id, seqNo: seqNo, offline: offline, trigger: .trigger,
                                                  chargingState: TransactionEventOperation.chargingState(c.status),
                                                  meterValues: value.map { [$0] }, numberOfPhasesUsed: MeterValueSampling.phasesUsed(c),
                                                  atUnixMs: now)
            }
        }
        outboxKick.yield()
    }
}
