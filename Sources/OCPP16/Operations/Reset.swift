import HAL
import OCPP16Messages

/// Reset (CSMS → charge point): every session ends first (SoftReset/HardReset), their
/// StopTransactions get a chance to reach the CSMS, then the station restarts.
extension OCPP16ChargePoint {
    func reset(_ request: ResetRequest) -> ResetResponse {
        guard !resetInProgress else { return ResetResponse(status: .rejected) }
        resetInProgress = true
        let hard = request.type == .hard
        logger.notice("\(request.type.rawValue) reset requested")
        Task { await self.performReset(hard: hard) }
        return ResetResponse(status: .accepted)
    }

    private func performReset(hard: Bool) async {
        for c in connectorsNow() where c.session != nil {
            station.perform(.stopSession(connectorId: c.id, reason: hard ? .hardReset : .softReset))
        }
        // Up to 10 s for the sessions to end and their messages to be delivered; what is not
        // delivered stays on disk and goes after the restart.
        for _ in 0..<50 {
            await sleep(.milliseconds(Int64(200)))
            if connectorsNow().allSatisfy({ $0.session == nil }) && transactions.pendingCount() == 0 { break }
        }
        station.perform(.restart(hard: hard))
    }
}
