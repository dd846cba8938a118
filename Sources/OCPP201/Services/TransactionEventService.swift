import ChargingCore
import Logging
import OCPP201Messages
import OCPPJSON
import Storage
import Locking
import StationPort
import Synchronization

/// Transactions (block E): every TransactionEvent goes through the session journal's durable
/// outbox. Each is on disk before it is sent, numbered there (`seqNo`, strictly increasing per
/// transaction, counted in the same SQLite transaction), sent oldest first, removed only when
/// the CSMS answered or MessageAttempts were used up. An event queued while the CSMS could not
/// be reached carries `offline: true`. The transactionId is the station's session id: nothing
/// waits for the CSMS to name it.
public final class TransactionEventService: Sendable {
    /// The outbox kind of a 2.0.1 TransactionEvent.
    public static let kind = "TransactionEvent"

    let journal: SessionJournal
    private let logger: Logger
    /// Connected and accepted, as the station last said: events queued otherwise are offline.
    private let online = Mutex(false)
    /// The remoteStartId of a RequestStartTransaction, by its token's value, for the
    /// transaction it starts. Set before the core hears of it: the transaction may begin in the
    /// same step (TxStartPoint Authorized, or the EV already plugged in).
    private let remoteStartIds = Mutex<[String: Int]>([:])
    private let txEndedMeasurands = Mutex<Set<String>>(["Energy.Active.Import.Register"])
    /// Sessions waiting for their first energy to begin their transaction, with the
    /// remoteStartId that started them.
    private let waitingForEnergy = Mutex<[String: Int?]>([:])
    /// TxStartPoint as configured: EVConnected and Authorized begin a transaction with the
    /// core's session prelude, when the EV or the token comes first (`SessionPrelude`).
    private let startPoints = Mutex<Set<String>>(["PowerPathClosed"])

    public init(journal: SessionJournal, logger: Logger = Logger(label: "ocpp201.transactions")) {
        self.journal = journal
        self.logger = logger
    }

    func setOnline(_ value: Bool) { online.locked { $0 = value } }
    func setTxEndedMeasurands(_ values: [String]) { txEndedMeasurands.locked { $0 = Set(values) } }
    func expectRemoteStart(idToken: String, remoteStartId: Int) {
        remoteStartIds.locked {
            // Bounded: an accepted start whose grant ran out leaves its entry until its token's next start.
            if $0.count >= 32 { $0.removeAll() }
            $0[idToken] = remoteStartId
        }
    }
    func forgetRemoteStart(idToken: String) { remoteStartIds.locked { _ = $0.removeValue(forKey: idToken) } }

    func setTransactionStartPoints(_ points: Set<String>) { startPoints.locked { $0 = points } }

    /// TxStartPoint holds EnergyTransfer and none of the points the session or its prelude
    /// passes first (EVConnected, Authorized, PowerPathClosed): the transaction begins with the
    /// first energy, not with the session.
    private var startsAtEnergyTransfer: Bool {
        startPoints.locked { $0.contains("EnergyTransfer") && $0.isDisjoint(with: ["EVConnected", "Authorized", "PowerPathClosed"]) }
    }

    /// Does a prelude that `cause` began begin the transaction (TxStartPoint)?
    func beginsTransaction(_ cause: SessionPrelude.Cause) -> Bool {
        startPoints.locked { $0.contains(cause == .evConnected ? "EVConnected" : "Authorized") }
    }

    /// Whether the transaction of that id began (its Started event is queued or sent) and has
    /// not ended.
    func hasBegun(_ id: String) -> Bool {
        (try? journal.hasTransactionEventSeqNo(forSession: id)) ?? false
    }

    // MARK: Queueing (any thread; returns when the event is on disk)

    /// The station's hook (`Station.sessionMessagesOwed`): a session start queues its Started
    /// event, a session end its Ended event, through `journal`, inside the transaction that
    /// records the change. A crash between the two cannot happen.
    public func messagesOwed(for change: SessionRecordChange, in journal: SessionJournal.Writer) throws {
        switch change {
        case let .started(session):
            let remoteStartId = session.startReason == .remote
                ? remoteStartIds.locked { $0.removeValue(forKey: session.idToken.value) } : nil
            if try journal.hasTransactionEventSeqNo(forSession: session.id) {
                // The transaction began with the session's prelude: the session goes on with it.
                let seqNo = try journal.nextTransactionEventSeqNo(forSession: session.id)
                try enqueue(TransactionEventOperation.sessionStarted(session, seqNo: seqNo, offline: !online.locked { $0 },
                                                                     remoteStartId: remoteStartId),
                            session: session.id, atUnixMs: session.startedAtUnixMs, in: journal)
                return
            }
            if startsAtEnergyTransfer {
                waitingForEnergy.locked { $0[session.id] = remoteStartId }
                return
            }
            let seqNo = try journal.nextTransactionEventSeqNo(forSession: session.id)
            try enqueue(TransactionEventOperation.started(session, seqNo: seqNo, offline: !online.locked { $0 },
                                                          remoteStartId: remoteStartId),
                        session: session.id, atUnixMs: session.startedAtUnixMs, in: journal)
        case let .ended(session):
            waitingForEnergy.locked { _ = $0.removeValue(forKey: session.id) }
            // A session whose transaction never began (TxStartPoint EnergyTransfer, no energy
            // flowed) was never a transaction for the CSMS: nothing to end.
            guard try journal.hasTransactionEventSeqNo(forSession: session.id) else { return }
            let seqNo = try journal.nextTransactionEventSeqNo(forSession: session.id)
            let withEnergy = txEndedMeasurands.locked { $0.contains("Energy.Active.Import.Register") }
            try enqueue(TransactionEventOperation.ended(session, seqNo: seqNo, offline: !online.locked { $0 },
                                                        withEnergyRegisters: withEnergy),
                        session: session.id, atUnixMs: session.stoppedAtUnixMs ?? session.startedAtUnixMs, in: journal)
            // Nothing follows the Ended event: its counter goes.
            try journal.forgetTransactionEventSeqNo(forSession: session.id)
        case let .preludeBegan(p):
            // TxStartPoint EVConnected or Authorized: the transaction begins before the session.
            guard beginsTransaction(p.cause) else { return }
            let expected = p.startReason == .remote ? p.idToken.flatMap { t in remoteStartIds.locked { $0.removeValue(forKey: t.value) } } : nil
            let seqNo = try journal.nextTransactionEventSeqNo(forSession: p.id)
            try enqueue(TransactionEventOperation.started(p, seqNo: seqNo, offline: !online.locked { $0 }, remoteStartId: expected),
                        session: p.id, atUnixMs: p.beganAtUnixMs, in: journal)
        case let .preludeEnded(p, end):
            // No session followed (the EV left, the grant ran out, a stop): the transaction ends.
            guard try journal.hasTransactionEventSeqNo(forSession: p.id) else { return }
            let seqNo = try journal.nextTransactionEventSeqNo(forSession: p.id)
            let withEnergy = txEndedMeasurands.locked { $0.contains("Energy.Active.Import.Register") }
            try enqueue(TransactionEventOperation.ended(p, end, seqNo: seqNo, offline: !online.locked { $0 },
                                                        withEnergyRegisters: withEnergy),
                        session: p.id, atUnixMs: end.atUnixMs, in: journal)
            try journal.forgetTransactionEventSeqNo(forSession: p.id)
        case .sampled, .suspensionBegan, .suspensionEnded, .stopRequested, .deauthorized, .availability: break
        }
    }

    /// Records the change's events in a transaction of their own: for a session the journal
    /// holds but whose change is not recorded by the station (tests).
    public func record(_ change: SessionRecordChange) throws {
        try journal.atomically { w in try messagesOwed(for: change, in: w) }
    }

    private func enqueue(_ event: TransactionEventRequest, session: String, atUnixMs: UInt64,
                         in journal: SessionJournal.Writer) throws {
        try journal.enqueue(kind: Self.kind, payload: JSONWriter.writeString(event.toJSON()), sessionId: session,
                            atMs: Int64(clamping: atUnixMs))
    }

    /// An Updated event of a running transaction; false when it has ended in the journal (its
    /// Ended event is queued: nothing may follow it) or the event could not be queued.
    @discardableResult
    func enqueueUpdated(session: String, connectorId: Int, atUnixMs: UInt64,
                        build: (_ seqNo: Int, _ offline: Bool) -> TransactionEventRequest) -> Bool {
        do {
            return try journal.atomically { w in
                // A session that runs, or a prelude whose transaction began before it.
                let open = try w.session(session)?.isOpen ?? (try w.prelude(sessionId: session) != nil)
                guard open, try w.hasTransactionEventSeqNo(forSession: session) else { return false }
                let seqNo = try w.nextTransactionEventSeqNo(forSession: session)
                try enqueue(build(seqNo, !online.locked { $0 }), session: session, atUnixMs: atUnixMs, in: w)
                return true
            }
        } catch {
            logger.critical("cannot queue a TransactionEvent of \(session): \(error)")
            return false
        }
    }

    /// Before the station recovers its sessions: a session the journal holds open whose
    /// TransactionEvents never began (it was opened under OCPP 1.6, before the station switched
    /// versions on the same data directory) gets its Started event, so the 2.0.1 CSMS knows the
    /// transaction its Ended event will close. The 1.6 messages still queued for it are not sent
    /// to a 2.0.1 CSMS (`next()` drops them).
    public func reconcileWithJournal() {
        do {
            for open in try journal.openSessions() {
                let begun = try journal.hasTransactionEventSeqNo(forSession: open.id)
                guard !begun else { continue }
                logger.notice("session \(open.id) was opened under OCPP 1.6: queueing its TransactionEvent Started")
                let reason = open.startReason.flatMap(SessionStartReason.init(rawValue:)) ?? .local
                let session = Session(id: open.id, connectorId: open.connectorId,
                                      idToken: IdToken(open.idToken ?? "", kind: reason == .remote ? .central : .iso14443),
                                      parentIdToken: open.parentIdToken.map { IdToken($0) }, startReason: reason,
                                      meterStartWh: open.meterStartWh, startedAtUnixMs: UInt64(max(0, open.startedAtMs)))
                try record(.started(session))
            }
        } catch {
            logger.critical("cannot reconcile the TransactionEvent queue with the session journal: \(error)")
        }
    }

    /// The first energy of a session waiting for it (TxStartPoint EnergyTransfer): its Started
    /// event, numbered 0, with the register now as Transaction.Begin. False when the session is
    /// not waiting (its transaction began already) or it could not be queued.
    func energyTransferBegan(_ session: Session, energyWh: Double?, atUnixMs: UInt64) -> Bool {
        // Whether it waits is on disk (no event numbered yet), so a restart meanwhile loses
        // nothing; only the remoteStartId is kept in memory.
        guard startsAtEnergyTransfer else { return false }
        let remoteStartId = waitingForEnergy.locked { $0.removeValue(forKey: session.id) } ?? nil
        do {
            return try journal.atomically { w in
                guard let record = try w.session(session.id), record.isOpen,
                      try !w.hasTransactionEventSeqNo(forSession: session.id) else { return false }
                let seqNo = try w.nextTransactionEventSeqNo(forSession: session.id)
                try enqueue(TransactionEventOperation.startedByEnergy(session, seqNo: seqNo, offline: !online.locked { $0 },
                                                                      remoteStartId: remoteStartId,
                                                                      energyWh: energyWh ?? session.meterStartWh, atUnixMs: atUnixMs),
                            session: session.id, atUnixMs: atUnixMs, in: w)
                return true
            }
        } catch {
            logger.critical("cannot queue the TransactionEvent Started of \(session.id): \(error)")
            return false
        }
    }

    // MARK: Delivery

    /// What to do with the oldest queued message.
    public enum Delivery: Sendable, Equatable {
        case send(seq: Int64, sessionId: String?, payload: JSONValue)
        /// Dropped: unreadable, or another protocol version's message.
        case dropped(seq: Int64)
        case empty
    }

    /// False only when the queue was found empty and nothing was written to the journal since:
    /// the outbox's once-a-second safety kick then has nothing to look for in SQLite.
    public var mayHaveQueuedMessages: Bool { journal.mayHavePending }

    public func next() -> Delivery {
        guard let message = try? journal.oldestPending() else { return .empty }
        guard message.kind == Self.kind else {
            // Queued by the 1.6 adapter on this data directory: the 2.0.1 CSMS cannot take it.
            logger.error("outbox message \(message.seq) is a 1.6 \(message.kind): not sent to a 2.0.1 CSMS, dropped")
            _ = try? journal.acknowledge(message.seq)
            return .dropped(seq: message.seq)
        }
        guard let payload = try? JSONParser.parse(message.payload) else {
            logger.error("outbox message \(message.seq) is unreadable: dropped")
            _ = try? journal.acknowledge(message.seq)
            return .dropped(seq: message.seq)
        }
        return .send(seq: message.seq, sessionId: message.sessionId, payload: payload)
    }

    public func markSent(_ seq: Int64, atUnixMs: UInt64) { _ = try? journal.markSent(seq, atMs: Int64(clamping: atUnixMs)) }
    public func acknowledge(_ seq: Int64) throws { _ = try journal.acknowledge(seq) }
    public func pendingCount() -> Int { (try? journal.pendingCount()) ?? 0 }

    /// GetTransactionStatus: does the transaction run, and are messages of it still queued.
    func status(ofTransaction id: String) -> (ongoing: Bool, queued: Bool) {
        let ongoing = (try? journal.session(id))?.isOpen ?? (hasBegun(id) && (try? journal.prelude(sessionId: id)) != nil)
        let queued = (try? journal.sessionsWithPending(kind: Self.kind))?.contains(id) ?? false
        return (ongoing, queued)
    }

    func connectorId(ofSession id: String) -> Int? {
        (try? journal.session(id))?.connectorId ?? (try? journal.prelude(sessionId: id))?.connectorId
    }
}

extension OCPP201ChargingStation {
    /// The transaction running on the connector: its session's, or one begun before the session
    /// (TxStartPoint EVConnected or Authorized, with the session's prelude).
    func transactionId(on c: ConnectorSnapshot) -> String? {
        c.session?.id ?? c.prelude.flatMap { transactions.hasBegun($0.id) ? $0.id : nil }
    }
}

extension TransactionEventService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(GetTransactionStatusRequest.self) { station, request in station.getTransactionStatus(request) }
    }
}
