import BoardAssembly
import BoardDescription
import ChargingCore
import Drivers
import HAL
import Logging
import Storage
import Synchronization

/// The command executor: a machine's commands carried out in the order it gave them (the
/// contactor first on the safety path, the journal write before any command with a billing
/// effect), and the follow-up events they cause fed back.
extension Station {
    // MARK: - Events and commands

    /// Feeds one event to a connector's machine and executes what it answers, in order.
    func dispatch(_ c: Connector, _ event: ConnectorEvent, at now: MonotonicInstant, unixMs: UInt64) {
        if case .allocatedCurrent = event {} else if case .tick = event {} else { eventsSinceAllocation += 1 }
        execute(c, c.machine.handle(event, at: now, unixMs: unixMs), at: now)
    }

    /// Executes commands in order. A failed `.persist` of a session start withholds every
    /// later command with a billing effect (closing the contactor) and stops the session: no
    /// energy flows that the journal does not know about.
    func execute(_ c: Connector, _ commands: [ConnectorCommand], at now: MonotonicInstant) {
        var followUps: [ConnectorEvent] = []
        var persistFailed = false
        let status = c.machine.status?.rawValue ?? "Preparing"
        for command in commands {
            // The adapters hear of a command once it is handled: nothing runs before a contactor command.
            defer { commandObserver?(c.id, command) }
            switch command {
            case let .persist(change):
                do {
                    try recordInOrder(change, state: status, connectorId: c.id)
                    if case .stopRequested = change { c.stopNotKept = false }
                    if case .preludeEnded = change { c.stopNotKept = false }
                } catch StorageError.sessionAlreadyEnded(let id) {
                    logger.warning("c\(c.id): session \(id) was already ended in the journal; not ending it twice")
                } catch {
                    logger.critical("c\(c.id): journal write failed: \(error)")
                    noteStorageFailure(error)
                    if case .started = change { persistFailed = true; followUps.append(.stopRequested(.other)) }
                    if case .stopRequested = change { c.stopNotKept = true }
                    if case .preludeEnded = change { c.stopNotKept = true }
                }
            case let .setPilot(p):
                do {
                    switch p {
                    case let .offer(amps): try c.hw.pilot.offer(current: min(amps, c.hw.pilot.config.maximumCurrent))
                    case .notReady: try c.hw.pilot.setNotReady()
                    case .stateF: try c.hw.pilot.setStateF()
                    }
                    logger.info("c\(c.id): pilot \(p)")
                } catch {
                    logger.error("c\(c.id): pilot output: \(error)")
                }
            case .closeContactor:
                if persistFailed {
                    logger.critical("c\(c.id): not closing the contactor: the session start is not in the journal")
                    continue
                }
                do {
                    try c.hw.contactor.close(at: now)
                    logger.info("c\(c.id): contactor closed")
                } catch {
                    logger.critical("c\(c.id): contactor close: \(error)")
                    followUps.append(.contactorFault(.failedToClose))
                }
            case let .openContactor(reason):
                do {
                    try c.hw.contactor.open(at: now)
                    logger.info("c\(c.id): contactor open (\(reason.rawValue))")
                } catch {
                    logger.critical("c\(c.id): contactor open: \(error)")
                }
            case .lock, .unlock:
                guard let lock = c.hw.lock else { continue }
                do {
                    if command == .lock { try lock.lock(at: now) } else { try lock.unlock(at: now) }
                    c.lockState = nil  // re-read below and on the next polls
                    let state = try lock.poll(at: now)
                    c.lockState = nil
                    switch state {
                    case .locked: followUps.append(.lockConfirmed); c.lockState = state
                    case .unlocked: followUps.append(.unlockConfirmed); c.lockState = state
                    default: c.lockState = state
                    }
                } catch {
                    logger.error("c\(c.id): cable lock: \(error)")
                    followUps.append(.faultRaised(.lock(command == .lock ? .failedToLock : .failedToUnlock)))
                }
            case let .statusChanged(s, error):
                logger.notice("c\(c.id): status \(s.rawValue)\(error.map { " (\($0.rawValue))" } ?? "")")
            case let .sessionStarted(s):
                c.lastFinished = nil
                logger.notice("c\(c.id): session \(s.id) started by \(s.idToken.value) (\(s.startReason.rawValue)), meter start \(s.meterStartWh) Wh")
            case let .sessionEnded(s):
                c.lastFinished = (s.energyWh, Int(((s.stoppedAtUnixMs ?? s.startedAtUnixMs) &- s.startedAtUnixMs) / 1_000), now,
                                  s.id, s.idToken.value)
                logger.notice("c\(c.id): session \(s.id) ended (\(s.stopReason?.rawValue ?? "-")): \(s.energyWh) Wh, meter \(s.meterStartWh) → \(s.meterStopWh ?? -1) Wh")
            case let .authorize(token):
                let decision = authorization.authorize(token, atUnixMs: wallClock.unixMilliseconds())
                switch decision {
                case let .accepted(info, source):
                    logger.info("card \(token.value): \(info.status.rawValue) by \(source.rawValue)")
                case let .rejected(info, source):
                    logger.notice("card \(token.value): \(info.status.rawValue) by \(source.rawValue)")
                case .pending:
                    logger.info("card \(token.value): waiting for the backend")
                }
                if let info = decision.info { followUps.append(.authorizationResult(token, info)) }
            case let .authorizationDenied(token, status):
                c.lastDenied = (token, now)
                logger.notice("c\(c.id): \(token.value) refused: \(status.rawValue)")
            case .runRCDSelfTest:
                if let test = c.hw.rcdSelfTest {
                    do { _ = try test.start(at: now) } catch {
                        logger.error("c\(c.id): RCD self-test: \(error)")
                        followUps.append(.rcdSelfTestFinished(passed: false))
                    }
                } else {
                    followUps.append(.rcdSelfTestFinished(passed: true))
                }
            case let .reservationAnswered(id, answer):
                logger.info("c\(c.id): reservation \(id): \(answer.rawValue)")
            case let .reservationEnded(id, reason):
                logger.info("c\(c.id): reservation \(id) ended: \(reason.rawValue)")
            case let .availabilityAnswered(answer):
                logger.info("c\(c.id): availability change \(answer.rawValue)")
            case .readMeterNow:
                if let meter = c.meter {
                    // Still ours (tests, start-up): read on this thread.
                    do { if let sample = Self.coreSample(try meter.read(at: now)) { followUps.append(.meterSample(sample)) } }
                    catch { meterInbox.post(connector: c.id, .fault(error, at: now)) }
                } else {
                    pollers[c.id]?.requestRead()
                }
            }
        }
        for event in followUps { dispatch(c, event, at: now, unixMs: wallClock.unixMilliseconds()) }
    }
}
