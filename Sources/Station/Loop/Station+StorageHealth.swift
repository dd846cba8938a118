import ChargingCore
import HAL
import Logging
import Storage

/// A journal the station cannot write (disk full, read-only, I/O errors): every connector is
/// Faulted (InternalError) with its contactor open until a write succeeds again, so no energy
/// flows that could not be billed. While the fault lasts the station tries one small write
/// every `storageProbeInterval`; only then, because every probe is an fsync that wears flash.
extension Station {
    public static let storageProbeInterval: EVSEDuration = .seconds(Int64(10))

    /// Whether the storage fault is raised now.
    public var storageUnavailable: Bool { storageHealth.faulted }

    struct StorageHealth {
        var faulted = false
        /// A write failed for a storage reason since the last check (set by the command executor).
        var failureSeen: (any Error)?
        var nextProbeAt: MonotonicInstant?
        /// Session changes the journal could not take, oldest first, written before anything
        /// newer once it can (a session that ended on a full disk still gets its end and its
        /// StopTransaction). Kept in memory: after a restart the journal's open session is
        /// recovered instead, and while the fault lasts no energy flows.
        var unrecorded: [UnrecordedChange] = []
        /// Sessions whose start never reached the journal: nothing of them is kept (their
        /// contactor never closed, and the backend must not hear of a transaction it cannot be
        /// told the start of).
        var unrecordedStarts: Set<String> = []
    }

    struct UnrecordedChange {
        var connectorId: Int
        var change: SessionRecordChange
        var state: String
    }

    /// How many unrecorded changes are kept at most; beyond it the oldest meter sample goes
    /// (never a start, a stop or an end).
    static let unrecordedLimit = 1_000

    /// Called by the command executor when a journal write failed.
    func noteStorageFailure(_ error: any Error) {
        guard (error as? StorageError)?.meansStorageUnavailable == true else { return }
        storageHealth.failureSeen = error
    }

    /// Start: one probe write. A station that cannot record a session starts Faulted.
    func probeStorageAtStart(at now: MonotonicInstant, unixMs: UInt64) {
        do { try storage.probeWrite(stamp: String(unixMs)) } catch { noteStorageFailure(error) }
        checkStorage(at: now, unixMs: unixMs)
    }

    /// Once per step, after the connectors: raise the fault on a failure seen (by the journal or
    /// by any other writer of the database), clear it once a probe write succeeds and every
    /// unrecorded change is written.
    func checkStorage(at now: MonotonicInstant, unixMs: UInt64) {
        if storageHealth.failureSeen == nil, let error = storage.database.takeUnavailableFailure() {
            storageHealth.failureSeen = error
        }
        if let error = storageHealth.failureSeen {
            storageHealth.failureSeen = nil
            if !storageHealth.faulted {
                storageHealth.faulted = true
                logger.critical("storage: the journal cannot be written (\(error)): every connector Faulted, contactors open, until a write succeeds (tried every \(Self.storageProbeInterval))")
                for c in connectors { dispatch(c, .faultRaised(.storage), at: now, unixMs: unixMs) }
            }
            storageHealth.nextProbeAt = now + Self.storageProbeInterval
            return
        }
        guard storageHealth.faulted, let due = storageHealth.nextProbeAt, now >= due else { return }
        do {
            try storage.probeWrite(stamp: String(unixMs))
            let written = storageHealth.unrecorded.count
            try writeUnrecordedChanges()
            if written > 0 { logger.notice("storage: \(written) session change(s) kept while the journal failed are written now") }
            _ = storage.database.takeUnavailableFailure()  // the probe's own earlier failures
            storageHealth.faulted = false
            storageHealth.nextProbeAt = nil
            logger.notice("storage: the journal can be written again; the storage fault is cleared")
            for c in connectors { dispatch(c, .faultCleared(.storage), at: now, unixMs: unixMs) }
        } catch {
            storageHealth.nextProbeAt = now + Self.storageProbeInterval
        }
    }
}

/// Session changes written in order, keeping those the journal could not take.
extension Station {
    /// Writes `change` after every change still unrecorded. On a storage failure the change is
    /// kept for later (a start is not: see `unrecordedStarts`) and the error rethrown.
    func recordInOrder(_ change: SessionRecordChange, state: String, connectorId: Int) throws {
        do {
            try writeUnrecordedChanges()
            try write(change, state: state)
        } catch let error as StorageError where error.meansStorageUnavailable {
            keepUnrecorded(UnrecordedChange(connectorId: connectorId, change: change, state: state))
            throw error
        }
    }

    func write(_ change: SessionRecordChange, state: String) throws {
        if case let .availability(id, operative) = change {
            try storage.connectorAvailability.set(operative ? .operative : .inoperative, forConnector: id)
        } else {
            try recorder.record(change, state: state)
        }
    }

    /// Writes the kept changes, oldest first; stops at the first storage failure (rethrown).
    func writeUnrecordedChanges() throws {
        while let next = storageHealth.unrecorded.first {
            do {
                try write(next.change, state: next.state)
            } catch StorageError.sessionAlreadyEnded(let id) {
                logger.warning("c\(next.connectorId): session \(id) was already ended in the journal; not ending it twice")
            }
            storageHealth.unrecorded.removeFirst()
        }
    }

    private func keepUnrecorded(_ kept: UnrecordedChange) {
        if case let .started(s) = kept.change {
            storageHealth.unrecordedStarts.insert(s.id)
            return
        }
        if let id = kept.change.sessionId, storageHealth.unrecordedStarts.contains(id) {
            logger.notice("c\(kept.connectorId): session \(id) never reached the journal; its later changes are not kept either")
            return
        }
        if storageHealth.unrecorded.count >= Self.unrecordedLimit,
           let oldestSample = storageHealth.unrecorded.firstIndex(where: { $0.change.isMeterSample }) {
            storageHealth.unrecorded.remove(at: oldestSample)
        }
        storageHealth.unrecorded.append(kept)
    }
}

extension SessionRecordChange {
    var sessionId: String? {
        switch self {
        case let .started(s), let .ended(s): s.id
        case let .sampled(id, _), let .suspensionBegan(id, _), let .suspensionEnded(id, _), let .deauthorized(id, _),
             let .stopRequested(id, _): id
        case let .preludeBegan(p), let .preludeEnded(p, _): p.id
        case .availability: nil
        }
    }

    var isMeterSample: Bool {
        if case .sampled = self { return true }
        return false
    }
}

/// Session history: ended sessions older than `sessions.history_days` are deleted at start and
/// then once every `historyPruneInterval`, so the journal's size is bounded by the traffic of that
/// many days, not by the station's age.
extension Station {
    public static let historyPruneInterval: EVSEDuration = .seconds(Int64(6 * 3_600))

    func pruneSessionHistory(at now: MonotonicInstant, unixMs: UInt64) {
        if let due = nextHistoryPruneAt, now < due { return }
        nextHistoryPruneAt = now + Self.historyPruneInterval
        let cutoff = Int64(clamping: unixMs) - Int64(config.sessions.historyDays) * 86_400_000
        do {
            let pruned = try storage.journal.pruneEndedSessions(endedBeforeMs: cutoff)
            if pruned > 0 { logger.info("journal: \(pruned) session(s) older than \(config.sessions.historyDays) days deleted") }
        } catch {
            noteStorageFailure(error)
            logger.error("journal: pruning the session history failed: \(error)")
        }
    }
}
