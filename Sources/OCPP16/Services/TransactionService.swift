import ChargingCore
import Logging
import OCPP16Messages
import OCPPJSON
import Storage
import Locking
import Synchronization

/// Start/StopTransaction and transaction MeterValues through the journal's durable outbox:
/// each message is on disk before it is sent, sent in order, removed only when the CSMS
/// answered, retried per TransactionMessageAttempts/RetryInterval. Messages of a transaction
/// started offline carry no transactionId on disk: it is filled in from the journal (where the
/// StartTransaction answer put it) when they are sent.
public final class TransactionService: Sendable {
    public enum Kind: String, Sendable {
        case start = "StartTransaction"
        case stop = "StopTransaction"
        case meterValues = "MeterValues"
    }

    let journal: SessionJournal
    private let logger: Logger
    /// StopTxnSampledData ∪ StopTxnAlignedData, as configured now (read where a stop is queued).
    private let stopTxnMeasurands = Mutex<Set<Measurand>>([])

    public init(journal: SessionJournal, logger: Logger = Logger(label: "ocpp16.transactions")) {
        self.journal = journal
        self.logger = logger
    }

    // MARK: Queueing (any thread; returns when the message is on disk)

    /// The station's hook (`Station.sessionMessagesOwed`): a session start queues its
    /// StartTransaction, a session end its StopTransaction, through `journal`, inside the
    /// transaction that records the change. A crash between the two cannot happen.
    public func messagesOwed(for change: SessionRecordChange, in journal: SessionJournal.Writer) throws {
        switch change {
        case let .started(session): try queueStart(session, in: journal)
        case let .ended(session): try queueStop(session, in: journal)
        case .sampled, .suspensionBegan, .suspensionEnded, .stopRequested, .deauthorized, .availability,
             .preludeBegan, .preludeEnded: break  // 1.6 transactions begin with the session
        }
    }

    /// Records the change's messages in a transaction of their own: for a session the journal
    /// does not hold (tests that drive the charge point without a station).
    public func record(_ change: SessionRecordChange) throws {
        try journal.atomically { w in try messagesOwed(for: change, in: w) }
    }

    private func queueStart(_ session: Session, in journal: SessionJournal.Writer) throws {
        let request = StartTransactionRequest(
            connectorId: session.connectorId, idTag: String(session.idToken.value.prefix(20)),
            meterStart: Self.wattHours(session.meterStartWh), reservationId: session.reservationId,
            timestamp: OCPP16Timestamp.string(unixMs: session.startedAtUnixMs))
        try journal.enqueue(kind: Kind.start.rawValue, payload: JSONWriter.writeString(request.toJSON()),
                            sessionId: session.id, atMs: Int64(clamping: session.startedAtUnixMs))
    }

    /// Queues the session's StopTransaction with its transactionData: the values kept while it
    /// ran (StopTxnSampledData / StopTxnAlignedData) between its Transaction.Begin and
    /// Transaction.End energy registers.
    private func queueStop(_ session: Session, in journal: SessionJournal.Writer) throws {
        let stoppedAt = session.stoppedAtUnixMs ?? session.startedAtUnixMs
        let meterStop = session.meterStopWh ?? session.lastKnownEnergyWh
        let reason = session.stopReason.flatMap { StopTransactionRequest.Reason(rawValue: $0.ocpp16) }
        let request = StopTransactionRequest(
            idTag: session.stopIdToken.map { String($0.value.prefix(20)) },
            meterStop: Self.wattHours(meterStop),
            timestamp: OCPP16Timestamp.string(unixMs: stoppedAt),
            transactionId: 0,  // placeholder: the real one is set when sent
            reason: reason, transactionData: transactionData(of: session, meterStopWh: meterStop, stoppedAtUnixMs: stoppedAt,
                                                             kept: (try? journal.transactionData(ofSession: session.id)) ?? []))
        try journal.enqueue(kind: Kind.stop.rawValue, payload: JSONWriter.writeString(Self.withoutTransactionId(request.toJSON())),
                            sessionId: session.id, atMs: Int64(clamping: stoppedAt))
    }

    public func setStopTransactionMeasurands(sampled: [Measurand], aligned: [Measurand]) {
        stopTxnMeasurands.locked { $0 = Set(sampled + aligned) }
    }

    /// A meter value for the session's StopTransaction, on disk with the session.
    public func keepForStop(_ value: MeterValuesRequest.MeterValue, session: String, atUnixMs: UInt64) {
        do {
            try journal.appendTransactionData(JSONWriter.writeString(value.toJSON()), atMs: Int64(clamping: atUnixMs),
                                              toSession: session)
        } catch StorageError.sessionAlreadyEnded {
            // Sampled as the session ended: its StopTransaction is already queued.
        } catch {
            logger.error("StopTxn data of session \(session) not kept: \(error)")
        }
    }

    private func transactionData(of session: Session, meterStopWh: Double, stoppedAtUnixMs: UInt64, kept: [String])
        -> [StopTransactionRequest.MeterValue]?
    {
        let wanted = stopTxnMeasurands.locked { $0 }
        guard !wanted.isEmpty else { return nil }
        typealias Value = StopTransactionRequest.MeterValue
        var data: [Value] = []
        func register(_ wh: Double, _ context: ReadingContext, _ atUnixMs: UInt64) -> Value {
            Value(timestamp: OCPP16Timestamp.string(unixMs: atUnixMs), sampledValue: [
                .init(value: MeterValuesOperation.format(wh), context: context, measurand: .energyActiveImportRegister, unit: .wh)])
        }
        let energy = wanted.contains(.energyActiveImportRegister)
        if energy { data.append(register(session.meterStartWh, .transactionBegin, session.startedAtUnixMs)) }
        for text in kept {
            guard let json = try? JSONParser.parse(text), let value = try? Value(json: json) else {
                logger.error("StopTxn data of session \(session.id) unreadable: left out")
                continue
            }
            data.append(value)
        }
        if energy { data.append(register(meterStopWh, .transactionEnd, stoppedAtUnixMs)) }
        return data.isEmpty ? nil : data
    }

    /// False when the session has ended in the journal (its StopTransaction is queued in the
    /// same transaction, so no MeterValues may follow it), or the value could not be queued.
    @discardableResult
    public func enqueueMeterValues(_ request: MeterValuesRequest, session: String, atUnixMs: UInt64) -> Bool {
        do {
            return try journal.atomically { w in
                if let record = try w.session(session), !record.isOpen { return false }
                try w.enqueue(kind: Kind.meterValues.rawValue, payload: JSONWriter.writeString(Self.withoutTransactionId(request.toJSON())),
                              sessionId: session, atMs: Int64(clamping: atUnixMs))
                return true
            }
        } catch {
            logger.critical("cannot queue MeterValues of session \(session): \(error)")
            return false
        }
    }

    /// Before the station recovers its sessions: a session the journal holds open whose
    /// StartTransaction is neither answered (no transactionId) nor queued gets one. A journal
    /// written by a version that queued the start apart from the session can hold such a
    /// session; it must be queued before anything the recovery queues for it (its stop).
    public func reconcileWithJournal() {
        do {
            // Only the session ids: a queue of 10,000 messages read whole would stay in the heap.
            let queued = try journal.sessionsWithPending(kind: Kind.start.rawValue)
            for open in try journal.openSessions() where open.transactionId == nil && !queued.contains(open.id) {
                logger.notice("session \(open.id) has no StartTransaction queued or answered: queueing one")
                let reason = open.startReason.flatMap(SessionStartReason.init(rawValue:)) ?? .local
                let session = Session(id: open.id, connectorId: open.connectorId,
                                      idToken: IdToken(open.idToken ?? "", kind: reason == .remote ? .central : .iso14443),
                                      parentIdToken: open.parentIdToken.map { IdToken($0) }, startReason: reason,
                                      meterStartWh: open.meterStartWh, startedAtUnixMs: UInt64(max(0, open.startedAtMs)))
                try record(.started(session))
            }
        } catch {
            logger.critical("cannot reconcile the transaction queue with the session journal: \(error)")
        }
    }

    static func wattHours(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        return Int(value.rounded())
    }

    static func withoutTransactionId(_ payload: JSONValue) -> JSONValue {
        guard var object = payload.objectValue else { return payload }
        object["transactionId"] = nil
        return .object(object)
    }

    // MARK: Delivery

    /// What to do with the oldest queued message.
    public enum Delivery: Sendable, Equatable {
        /// Send this action and payload (transactionId filled in).
        case send(seq: Int64, kind: Kind, sessionId: String?, payload: JSONValue)
        /// Dropped: its transaction has no id (its StartTransaction was given up) or it is unreadable.
        case dropped(seq: Int64)
        case empty
    }

    /// The next message to send, transactionId filled in from the journal.
    public func next() -> Delivery {
        guard let message = try? journal.oldestPending() else { return .empty }
        guard let kind = Kind(rawValue: message.kind),
              var object = (try? JSONParser.parse(message.payload))?.objectValue else {
            logger.error("outbox message \(message.seq) (\(message.kind)) is unreadable: dropped")
            _ = try? journal.acknowledge(message.seq)
            return .dropped(seq: message.seq)
        }
        if kind != .start {
            guard let sessionId = message.sessionId,
                  let text = (try? journal.session(sessionId))?.transactionId, let id = Int(text) else {
                logger.error("\(kind.rawValue) \(message.seq): its transaction never got an id from the CSMS: dropped")
                _ = try? journal.acknowledge(message.seq)
                return .dropped(seq: message.seq)
            }
            object["transactionId"] = .integer(Int64(id))
        }
        return .send(seq: message.seq, kind: kind, sessionId: message.sessionId, payload: .object(object))
    }

    /// False only when the queue was found empty and nothing was written to the journal since:
    /// the outbox's once-a-second safety kick then has nothing to look for in SQLite.
    public var mayHaveQueuedMessages: Bool { journal.mayHavePending }

    public func markSent(_ seq: Int64, atUnixMs: UInt64) {
        _ = try? journal.markSent(seq, atMs: Int64(clamping: atUnixMs))
    }

    /// The CSMS answered a StartTransaction: the id is stored with the session and the message
    /// leaves the queue, in one transaction.
    public func startAnswered(seq: Int64, sessionId: String?, transactionId: Int) throws {
        try journal.atomically { w in
            if let sessionId { try w.setTransactionId(String(transactionId), forSession: sessionId) }
            _ = try w.acknowledge(seq)
        }
    }

    public func acknowledge(_ seq: Int64) throws { _ = try journal.acknowledge(seq) }

    public func pendingCount() -> Int { (try? journal.pendingCount()) ?? 0 }

    /// The connector a session ran on, from the journal.
    public func connectorId(ofSession id: String) -> Int? {
        (try? journal.session(id))?.connectorId
    }

    /// The transactionId the CSMS gave a session, if known.
    public func transactionId(ofSession id: String) -> Int? {
        (try? journal.session(id))?.transactionId.flatMap { Int($0) }
    }
}

extension TransactionService {
    /// Core: the CSMS starts and stops transactions (the station decides).
    static func register(into registry: inout OCPP16OperationRegistry) {
        registry.register(RemoteStartTransactionRequest.self) { chargePoint, request in await chargePoint.remoteStartTransaction(request) }
        registry.register(RemoteStopTransactionRequest.self) { chargePoint, request in await chargePoint.remoteStopTransaction(request) }
    }
}

extension TransactionService {
    /// The station's session the CSMS knows as `transactionId` (open sessions first, then the
    /// most recent ended ones: a FinalCost arrives after StopTransaction).
    public func sessionId(ofTransaction transactionId: Int) -> String? {
        let wanted = String(transactionId)
        if let open = (try? journal.openSessions())?.first(where: { $0.transactionId == wanted }) { return open.id }
        return (try? journal.recentSessions(limit: 32))?.first(where: { $0.transactionId == wanted })?.id
    }
}
