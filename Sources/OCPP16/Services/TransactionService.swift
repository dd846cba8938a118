import ChargingCore
import Logging
import OCPP16Messages
import OCPPJSON
import Storage
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
    /// Sessions whose StopTransaction is queued: no MeterValues may follow it.
    private let ended = Mutex<Set<String>>([])
    /// StopTxnSampledData ∪ StopTxnAlignedData, as configured now (read where a stop is queued).
    private let stopTxnMeasurands = Mutex<Set<Measurand>>([])

    public init(journal: SessionJournal, logger: Logger = Logger(label: "ocpp16.transactions")) {
        self.journal = journal
        self.logger = logger
    }

    // MARK: Queueing (any thread; returns when the message is on disk)

    public func enqueueStart(_ session: Session) {
        let request = StartTransactionRequest(
            connectorId: session.connectorId, idTag: String(session.idToken.value.prefix(20)),
            meterStart: Self.wattHours(session.meterStartWh), reservationId: session.reservationId,
            timestamp: OCPP16Timestamp.string(unixMs: session.startedAtUnixMs))
        enqueue(.start, request.toJSON(), session: session.id, atUnixMs: session.startedAtUnixMs)
    }

    /// Queues the session's StopTransaction with its transactionData: the values kept while it
    /// ran (StopTxnSampledData / StopTxnAlignedData) between its Transaction.Begin and
    /// Transaction.End energy registers.
    public func enqueueStop(_ session: Session) {
        let stoppedAt = session.stoppedAtUnixMs ?? session.startedAtUnixMs
        let meterStop = session.meterStopWh ?? session.lastKnownEnergyWh
        let reason = session.stopReason.flatMap { StopTransactionRequest.Reason(rawValue: $0.ocpp16) }
        let request = StopTransactionRequest(
            idTag: session.stopIdToken.map { String($0.value.prefix(20)) },
            meterStop: Self.wattHours(meterStop),
            timestamp: OCPP16Timestamp.string(unixMs: stoppedAt),
            transactionId: 0,  // placeholder: the real one is set when sent
            reason: reason, transactionData: transactionData(of: session, meterStopWh: meterStop, stoppedAtUnixMs: stoppedAt))
        ended.withLock { set in
            set.insert(session.id)
            enqueue(.stop, Self.withoutTransactionId(request.toJSON()), session: session.id, atUnixMs: stoppedAt)
        }
    }

    public func setStopTransactionMeasurands(sampled: [Measurand], aligned: [Measurand]) {
        stopTxnMeasurands.withLock { $0 = Set(sampled + aligned) }
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

    private func transactionData(of session: Session, meterStopWh: Double, stoppedAtUnixMs: UInt64)
        -> [StopTransactionRequest.MeterValue]?
    {
        let wanted = stopTxnMeasurands.withLock { $0 }
        guard !wanted.isEmpty else { return nil }
        typealias Value = StopTransactionRequest.MeterValue
        var data: [Value] = []
        func register(_ wh: Double, _ context: ReadingContext, _ atUnixMs: UInt64) -> Value {
            Value(timestamp: OCPP16Timestamp.string(unixMs: atUnixMs), sampledValue: [
                .init(value: MeterValuesOperation.format(wh), context: context, measurand: .energyActiveImportRegister, unit: .wh)])
        }
        let energy = wanted.contains(.energyActiveImportRegister)
        if energy { data.append(register(session.meterStartWh, .transactionBegin, session.startedAtUnixMs)) }
        for text in (try? journal.transactionData(ofSession: session.id)) ?? [] {
            guard let json = try? JSONParser.parse(text), let value = try? Value(json: json) else {
                logger.error("StopTxn data of session \(session.id) unreadable: left out")
                continue
            }
            data.append(value)
        }
        if energy { data.append(register(meterStopWh, .transactionEnd, stoppedAtUnixMs)) }
        return data.isEmpty ? nil : data
    }

    /// False when the session's StopTransaction is already queued (the sample came too late).
    @discardableResult
    public func enqueueMeterValues(_ request: MeterValuesRequest, session: String, atUnixMs: UInt64) -> Bool {
        ended.withLock { set in
            guard !set.contains(session) else { return false }
            enqueue(.meterValues, Self.withoutTransactionId(request.toJSON()), session: session, atUnixMs: atUnixMs)
            return true
        }
    }

    /// After a restart: an open session whose StartTransaction is neither answered (no
    /// transactionId in the journal) nor queued gets one (the process died between the journal
    /// write and the queueing).
    public func reconcile(openSessions: [Session]) {
        // Only the session ids: a queue of 10,000 messages read whole would stay in the heap.
        let queued = (try? journal.sessionsWithPending(kind: Kind.start.rawValue)) ?? []
        for session in openSessions where !queued.contains(session.id) {
            if (try? journal.session(session.id))?.transactionId == nil {
                logger.notice("session \(session.id) has no StartTransaction queued or answered: queueing one")
                enqueueStart(session)
            }
        }
    }

    private func enqueue(_ kind: Kind, _ payload: JSONValue, session: String, atUnixMs: UInt64) {
        do {
            try journal.enqueue(kind: kind.rawValue, payload: JSONWriter.writeString(payload), sessionId: session,
                                atMs: Int64(clamping: atUnixMs))
        } catch {
            logger.critical("cannot queue \(kind.rawValue) of session \(session): \(error)")
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
        guard let message = ((try? journal.pending(limit: 1)) ?? []).first else { return .empty }
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

    /// The transactionId the CSMS gave a session, if known.
    public func transactionId(ofSession id: String) -> Int? {
        (try? journal.session(id))?.transactionId.flatMap { Int($0) }
    }
}
