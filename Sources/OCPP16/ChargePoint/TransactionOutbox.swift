import ChargingCore
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort

/// The transaction messages (StartTransaction, StopTransaction, their MeterValues) go out from
/// the journal's queue on disk, oldest first, one at a time, while registered and connected;
/// each is removed once the CSMS acknowledged it, or once TransactionMessageAttempts were used
/// up (TransactionMessageRetryInterval × the attempt between them; offline time not counted).
struct TransactionOutboxState {
    /// Failures per message in this run (offline time is not counted).
    var failures: [Int64: Int] = [:]
    /// A hard reset is under way: nothing more leaves the queue before the restart.
    var held = false
}

extension OCPP16ChargePoint {
    public nonisolated func kickOutbox() { outboxKick.yield() }

    func deliverOutboxForever() async {
        // A periodic kick as well: a reconnect or a release noticed late. Not while the queue
        // is known empty: an idle charger then does not read SQLite every second.
        let ticker = Task { [outboxKick, sleep, transactions] in
            while !Task.isCancelled {
                await sleep(.seconds(Int64(1)))
                if transactions.mayHaveQueuedMessages { outboxKick.yield() }
            }
        }
        defer { ticker.cancel() }
        for await _ in outboxKicks { await deliverOutbox() }
    }

    /// Sends queued transaction messages, oldest first, while registered and connected.
    func deliverOutbox() async {
        while mayInitiate, !transactionOutbox.held, !Task.isCancelled {
            let next = transactions.next()
            guard case let .send(seq, kind, sessionId, payload) = next else {
                if case .dropped = next { continue }
                return
            }
            transactions.markSent(seq, atUnixMs: unixMs())
            do {
                let answer = try await sender.call(kind.rawValue, payload: payload)
                try acknowledged(seq: seq, kind: kind, sessionId: sessionId, payload: payload, answer: answer)
                transactionOutbox.failures[seq] = nil
            } catch let error as OCPPRPCError {
                if case .connectionLost = error { return }  // offline time does not count
                if case .shutDown = error { return }
                let count = (transactionOutbox.failures[seq] ?? 0) + 1
                transactionOutbox.failures[seq] = count
                let attempts = configuration.int("TransactionMessageAttempts") ?? 3
                if count >= attempts {
                    logger.error("\(kind.rawValue) \(seq): \(error); given up after \(count) attempt(s)")
                    try? transactions.acknowledge(seq)
                    transactionOutbox.failures[seq] = nil
                    continue
                }
                let interval = configuration.int("TransactionMessageRetryInterval") ?? 60
                logger.warning("\(kind.rawValue) \(seq): \(error); attempt \(count) of \(attempts), again in \(interval * count) s")
                await sleep(.seconds(Int64(interval * count)))
            } catch {
                logger.critical("outbox \(seq): cannot record the answer: \(error)")
                return
            }
        }
    }

    func acknowledged(seq: Int64, kind: TransactionService.Kind, sessionId: String?, payload: JSONValue,
                              answer: JSONValue) throws {
        switch kind {
        case .start:
            let response: StartTransactionResponse
            do { response = try StartTransactionResponse(json: answer) } catch {
                throw OCPPRPCError.malformedResponse("StartTransaction answer: \(error)")
            }
            try transactions.startAnswered(seq: seq, sessionId: sessionId, transactionId: response.transactionId)
            logger.notice("StartTransaction of \(sessionId ?? "?"): transactionId \(response.transactionId), \(response.idTagInfo.status.rawValue)")
            // The cache keeps every idTagInfo the CSMS gives (OCPP 1.6 §3.5.1), expiry included,
            // under the card's kind: a presented card is what looks it up.
            if let request = try? StartTransactionRequest(json: payload) {
                station.submit(.authorizationLearned(IdToken(request.idTag), AuthorizeOperation.info(response.idTagInfo)))
            }
            // Refused after the start: stopped (DeAuthorized), or — StopTransactionOnInvalidId
            // false — kept open, without energy once MaxEnergyOnInvalidId more has flowed, until
            // something stops it (OCPP 1.6 §9.1.32, §9.1.14).
            if response.idTagInfo.status != .accepted, let sessionId,
               let connectorId = transactions.connectorId(ofSession: sessionId) {
                station.submit(configuration.bool("StopTransactionOnInvalidId")
                    ? .stopSession(connectorId: connectorId, sessionId: sessionId, reason: .deAuthorized)
                    : .deauthorizeSession(connectorId: connectorId, sessionId: sessionId,
                                          energyAllowanceWh: configuration.int("MaxEnergyOnInvalidId") ?? 0))
            }
        case .stop, .meterValues:
            try transactions.acknowledge(seq)
        }
    }
}
