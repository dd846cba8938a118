import HAL
import OCPP16Messages

/// Reset (CSMS → charge point).
/// - Soft: every session ends (SoftReset), their StopTransactions get up to 10 s to reach the
///   CSMS, then the application restarts.
/// - Hard: as after a power cycle: the sessions end at once (HardReset; the contactors open
///   with them), nothing more is sent, and the station restarts (rebooting the controller when
///   the station file names a command for that). The StopTransactions are on disk and go out
///   after the restart, once the new BootNotification is accepted.
extension OCPP16ChargePoint {
    func reset(_ request: ResetRequest) -> ResetResponse {
        guard !resetInProgress else { return ResetResponse(status: .rejected) }
        resetInProgress = true
        let hard = request.type == .hard
        logger.notice("\(request.type.rawValue) reset requested")
        recordSecurityEvent("ResetOrReboot", atUnixMs: unixMs(), techInfo: "\(request.type.rawValue) reset by the Central System")
        if hard { transactionOutbox.held = true }
        Task { await self.performReset(hard: hard) }
        return ResetResponse(status: .accepted)
    }

    private func performReset(hard: Bool) async {
        // The stops are on disk when the station answers: a restart before the sessions end
        // still ends them (HardReset / SoftReset), it never resumes them.
        _ = await station.request(.stopAllSessions(reason: hard ? .hardReset : .softReset))
        // Soft: up to 10 s for the sessions to end and their messages to be delivered. Hard: up
        // to 2 s for the sessions to end (so they end as HardReset rather than being resumed by
        // the recovery after the restart). What is not delivered stays on disk.
        let rounds = hard ? 10 : 50
        for _ in 0..<rounds {
            await sleep(.milliseconds(Int64(200)))
            let sessionsEnded = await station.connectors().allSatisfy { $0.session == nil }
            if sessionsEnded && (hard || transactions.pendingCount() == 0) { break }
        }
        _ = await station.request(.restart(hard: hard))
    }
}
