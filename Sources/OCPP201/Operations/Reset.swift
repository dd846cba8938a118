import HAL
import OCPP201Messages
import OCPPTransport
import StationPort

/// Reset (B11, B12).
/// - The station, Immediate: every transaction ends (ImmediateReset), their TransactionEvents
///   get up to 10 s to reach the CSMS (what is not delivered stays on disk), then the
///   application restarts.
/// - The station, OnIdle: at once when no transaction runs; otherwise Scheduled, and the restart
///   comes when the last transaction ended.
/// - One EVSE: its transaction ends (Immediate), or Scheduled until it ends (OnIdle). An EVSE
///   has no controller of its own to restart: ending its transaction is all a reset of it does.
extension OCPP201ChargingStation {
    func reset(_ request: ResetRequest) async -> ResetResponse {
        guard !resets.inProgress else {
            return ResetResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("DuplicateRequest", "a reset is under way"))
        }
        let connectors = await connectors()
        if let evseId = request.evseId {
            guard let c = connectors.first(where: { $0.id == evseId }) else {
                return ResetResponse(status: .rejected, statusInfo: OCPP201Terms.statusInfo("UnknownEvse", "no EVSE \(evseId)"))
            }
            guard let id = transactionId(on: c) else { return ResetResponse(status: .accepted) }
            if request.type == .onIdle { return ResetResponse(status: .scheduled) }
            _ = await station.request(.stopSession(connectorId: c.id, sessionId: id, reason: .hardReset))
            return ResetResponse(status: .accepted)
        }
        logger.notice("\(request.type.rawValue) reset of the station requested")
        recordSecurityEvent(SecurityEventService.resetOrReboot, atUnixMs: unixMs(),
                            techInfo: "\(request.type.rawValue) reset by the CSMS")
        if request.type == .onIdle, connectors.contains(where: { transactionId(on: $0) != nil }) {
            resets.whenIdle = true
            return ResetResponse(status: .scheduled)
        }
        resets.inProgress = true
        Task { await self.performReset(endingTransactions: request.type == .immediate) }
        return ResetResponse(status: .accepted)
    }

    /// OnIdle waits for the last transaction to end (every status change asks).
    func resetIfIdle() async {
        guard resets.whenIdle, !resets.inProgress else { return }
        guard await connectors().allSatisfy({ transactionId(on: $0) == nil }) else { return }
        resets.whenIdle = false
        resets.inProgress = true
        await performReset(endingTransactions: false)
    }

    private func performReset(endingTransactions: Bool) async {
        if endingTransactions { _ = await station.request(.stopAllSessions(reason: .hardReset)) }
        for _ in 0..<50 {
            await sleep(.milliseconds(Int64(200)))
            let idle = await connectors().allSatisfy { transactionId(on: $0) == nil }
            if idle && transactions.pendingCount() == 0 { break }
        }
        _ = await station.request(.restart(hard: false))
    }
}
