import OCPP201DeviceModel
import HAL
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort

/// Provisioning (block B): BootNotification until the CSMS accepts (again after its interval
/// while it says Pending or Rejected, after `bootRetry` when it does not answer), then the
/// report of where things stand, the queues, and a Heartbeat every HeartbeatInterval. While
/// Pending the station sends nothing of its own accord (B02): only what the CSMS triggers.
struct BootState {
    var task: Task<Void, Never>?
    /// A BootNotification is waiting for its answer; CSMS calls that arrive meanwhile wait too.
    var answerOutstanding = false
    var waiters: [CheckedContinuation<Void, Never>] = []
    var heartbeat: Task<Void, Never>?
    /// Checks the station certificate's expiry once a day while registered.
    var certificateRenewal: Task<Void, Never>?
    /// A TriggerMessage(BootNotification) during Pending asked for one now.
    var wakeUp: CheckedContinuation<Void, Never>?
}

enum BootService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(ResetRequest.self) { station, request in await station.reset(request) }
        registry.register(DataTransferRequest.self) { station, request in await station.dataTransfer(request) }
    }
}

extension OCPP201ChargingStation {
    func startBoot() {
        guard boot.task == nil else { return }
        boot.task = Task { await self.bootUntilAccepted() }
    }

    func bootUntilAccepted() async {
        defer { boot.task = nil }
        while !Task.isCancelled, isConnected, registration != .accepted {
            do {
                let answer = try await sendBoot(BootNotificationOperation.request(identity, reason: bootReason))
                csmsTime = answer.currentTime
                let interval = answer.interval > 0 ? EVSEDuration.seconds(Int64(answer.interval)) : bootRetry
                switch answer.status {
                case .accepted:
                    registration = .accepted
                    if answer.interval > 0 {
                        settings.heartbeatInterval = answer.interval
                        // B01: the CSMS's interval is OCPPCommCtrlr.HeartbeatInterval from now on.
                        deviceModel?.setActual(.heartbeatInterval, String(answer.interval))
                    }
                    updateOnline()
                    logger.notice("BootNotification accepted; heartbeat every \(settings.heartbeatInterval) s")
                    await registered()
                    return
                case .pending:
                    registration = .pending
                    logger.notice("BootNotification pending; again in \(interval)")
                case .rejected:
                    registration = .rejected
                    logger.warning("BootNotification rejected; again in \(interval)")
                }
                await waitBeforeNextBoot(interval)
            } catch {
                logger.warning("BootNotification: \(error)")
                await sleep(bootRetry)
            }
        }
    }

    /// The interval the CSMS gave, cut short by a TriggerMessage(BootNotification).
    private func waitBeforeNextBoot(_ interval: EVSEDuration) async {
        let sleep = sleep
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            boot.wakeUp = c
            Task {
                await sleep(interval)
                self.wakeBoot()
            }
        }
    }

    func wakeBoot() {
        boot.wakeUp?.resume()
        boot.wakeUp = nil
    }

    /// Sends a BootNotification; CSMS calls that arrive before its answer is read wait for it.
    func sendBoot(_ request: BootNotificationRequest) async throws(OCPPRPCError) -> BootNotificationResponse {
        boot.answerOutstanding = true
        defer {
            boot.answerOutstanding = false
            let waiting = boot.waiters
            boot.waiters.removeAll()
            for w in waiting { w.resume() }
        }
        let answer = try await send(request)
        // Before the CSMS calls that waited are let go and the registration is set: nothing
        // leaves the queue before the times recorded with an unset clock are corrected.
        await reportCentralSystemTime(answer.currentTime)
        return answer
    }

    func registered() async {
        await queueFullStatusReport()
        outboxKick.yield()
        boot.heartbeat?.cancel()
        boot.heartbeat = Task { await self.heartbeatForever() }
        boot.certificateRenewal?.cancel()
        boot.certificateRenewal = Task { await self.renewCertificateWhenDue() }
        kickSecurityEvents()
    }

    /// Sleeps until the next Heartbeat is due. A changed HeartbeatInterval or a new socket
    /// restarts it (`restartHeartbeat`), so it never has to wake every second to look.
    func heartbeatForever() async {
        while !Task.isCancelled {
            let seconds = settings.heartbeatInterval
            // 0 turns heartbeats off until the interval changes, which restarts this task.
            await sleep(.seconds(Int64(seconds > 0 ? seconds : 86_400)))
            if Task.isCancelled { return }
            guard seconds > 0, mayInitiate else { continue }
            await sendHeartbeat()
        }
    }

    /// The interval changed or the socket is new: the next Heartbeat is one (new) interval
    /// from now. Nothing to do before the registration started the heartbeat.
    func restartHeartbeat() {
        guard let running = boot.heartbeat else { return }
        running.cancel()
        boot.heartbeat = Task { await self.heartbeatForever() }
    }

    func sendHeartbeat() async {
        do {
            csmsTime = try await send(HeartbeatRequest()).currentTime
            await reportCentralSystemTime(csmsTime)
        } catch { logger.info("Heartbeat: \(error)") }
    }

    /// The CSMS's time goes to the station's clock, which may set itself from it and correct
    /// what it recorded before (docs/ROBUSTNESS.md, "The clock"). Awaited: the queued
    /// TransactionEvents go out only after their timestamps were corrected.
    func reportCentralSystemTime(_ text: String?) async {
        guard let text else { return }
        guard let unixMs = OCPPTimestamp.unixMs(text) else {
            logger.warning("the CSMS's currentTime '\(text.prefix(40))' is not an RFC 3339 time: the clock is not set from it")
            return
        }
        _ = await station.request(.centralSystemTime(unixMs: unixMs))
        // The station's clock may have been set: the next aligned boundary moved with it.
        restartMetering()
    }

    /// The CSMS answers our BootNotification before it calls us; on the socket the answer is
    /// ahead of a CALL, but the boot task may not have read it yet.
    func waitForBootAnswer() async {
        guard registration == .notRegistered, boot.answerOutstanding else { return }
        await withCheckedContinuation { boot.waiters.append($0) }
    }
}
