import ChargingCore
import HAL
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort

/// The TransactionEvents go out from the journal's queue on disk, oldest first, one at a time,
/// while registered and connected; each is removed once the CSMS answered, or once
/// MessageAttempts were used up (MessageAttemptInterval × the attempt between them; offline
/// time not counted).
struct OutboxState {
    /// Failures per message in this run.
    var failures: [Int64: Int] = [:]
}

extension OCPP201ChargingStation {
    public nonisolated func kickOutbox() { outboxKick.yield() }

    func deliverOutboxForever() async {
        // A periodic kick as well: a reconnect or a release noticed late. Not while the queue
        // is known empty: an idle station then does not read SQLite every second.
        let ticker = Task { [outboxKick, sleep, transactions] in
            while !Task.isCancelled {
                await sleep(.seconds(Int64(1)))
                if transactions.mayHaveQueuedMessages { outboxKick.yield() }
            }
        }
        defer { ticker.cancel() }
        for await _ in outboxKicks { await deliverOutbox() }
    }

    /// Sends queued TransactionEvents, oldest first, while registered and connected.
    func deliverOutbox() async {
        while mayInitiate, !Task.isCancelled {
            let next = transactions.next()
            guard case let .send(seq, sessionId, payload) = next else {
                if case .dropped = next { continue }
                return
            }
            transactions.markSent(seq, atUnixMs: unixMs())
            do {
                let answer = try await sender.call(TransactionEventService.kind, payload: payload)
                try transactions.acknowledge(seq)
                outbox.failures[seq] = nil
                acknowledged(sessionId: sessionId, request: payload, answer: answer)
            } catch let error as OCPPRPCError {
                if case .connectionLost = error { return }  // offline time does not count
                if case .shutDown = error { return }
                let count = (outbox.failures[seq] ?? 0) + 1
                outbox.failures[seq] = count
                let attempts = max(1, settings.messageAttempts)
                if count >= attempts {
                    logger.error("TransactionEvent \(seq): \(error); given up after \(count) attempt(s)")
                    try? transactions.acknowledge(seq)
                    outbox.failures[seq] = nil
                    continue
                }
                let interval = max(0, settings.messageAttemptInterval)
                logger.warning("TransactionEvent \(seq): \(error); attempt \(count) of \(attempts), again in \(interval * count) s")
                await sleep(.seconds(Int64(interval * count)))
            } catch {
                logger.critical("outbox \(seq): cannot record the answer: \(error)")
                return
            }
        }
    }

    /// The CSMS's verdict on the token of a transaction (idTokenInfo in the answer): kept in the
    /// cache, its tariff and the costs shown; a refusal stops the transaction (StopTxOnInvalidId)
    /// or withholds its energy once MaxEnergyOnInvalidId more has flowed.
    private func acknowledged(sessionId: String?, request: JSONValue, answer: JSONValue) {
        guard let response = try? TransactionEventResponse(json: answer),
              let event = try? TransactionEventRequest(json: request) else { return }
        // Block I: the driver's tariff, the running or final cost, on the display.
        showTariffAndCost(event, response)
        guard let info = response.idTokenInfo, let token = event.idToken else { return }
        station.submit(.authorizationLearned(OCPP201Terms.idToken(token), OCPP201Terms.authorizationInfo(info)))
        guard info.status != .accepted, event.eventType != .ended, let sessionId,
              let connectorId = transactions.connectorId(ofSession: sessionId) else { return }
        logger.notice("the CSMS refused the token of transaction \(sessionId): \(info.status.rawValue)")
        station.submit(settings.stopTxOnInvalidId
            ? .stopSession(connectorId: connectorId, sessionId: sessionId, reason: .deAuthorized)
            : .deauthorizeSession(connectorId: connectorId, sessionId: sessionId,
                                  energyAllowanceWh: settings.maxEnergyOnInvalidId))
    }
}
