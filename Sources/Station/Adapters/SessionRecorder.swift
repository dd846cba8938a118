import ChargingCore
import Storage

/// Writes the core's `SessionRecordChange`s into the `SessionJournal` (each change one fsynced
/// transaction) and rebuilds core `Session`s from it after a restart.
final class SessionRecorder {
    let journal: SessionJournal
    /// The latest suspension start written per open session: the journal keys suspensions by
    /// (session, start ms), so a period that starts in the same millisecond as the previous
    /// one is written a millisecond later.
    private var lastSuspensionStartMs: [String: Int64] = [:]

    /// The protocol adapter's messages owed for a change (a start or stop message), queued in
    /// the same journal transaction as the change: a crash keeps both or neither.
    var messagesOwed: SessionMessagesOwed?
    /// The adapter's payload rewriting for the clock correction (ClockCorrection.swift).
    var queuedMessageClockHooks: QueuedMessageClockHooks?

    /// The wall clock, for the time of changes that carry none.
    let wallMs: () -> UInt64

    init(journal: SessionJournal, wallMs: @escaping () -> UInt64) {
        self.journal = journal
        self.wallMs = wallMs
    }

    func record(_ change: SessionRecordChange, state: String) throws {
        switch change {
        case let .started(s):
            try journal.atomically { w in
                _ = try w.beginSession(SessionStart(id: s.id, connectorId: s.connectorId, idToken: s.idToken.value,
                                                    parentIdToken: s.parentIdToken?.value, state: state,
                                                    startReason: s.startReason.rawValue,
                                                    startedAtMs: Int64(s.startedAtUnixMs), meterStartWh: s.meterStartWh))
                for v in s.sampledValues {
                    try w.appendMeterSample(SessionMeterSample(takenAtMs: Int64(v.atUnixMs), energyWh: v.energyWh, powerW: v.powerW),
                                            toSession: s.id)
                }
                try messagesOwed?(change, w)
            }
        case let .deauthorized(id, limit):
            try journal.atomically { w in try w.deauthorize(session: id, atMs: Int64(clamping: wallMs()), energyLimitWh: limit) }
        case let .stopRequested(id, stop):
            try journal.atomically { w in
                try w.requestStop(ofSession: id, reason: stop.reason.rawValue, idToken: stop.idToken?.value)
            }
        case let .sampled(id, v):
            try journal.atomically { w in
                try w.appendMeterSample(SessionMeterSample(takenAtMs: Int64(v.atUnixMs), energyWh: v.energyWh, powerW: v.powerW),
                                        toSession: id)
                try w.updateSession(id, atMs: Int64(v.atUnixMs), state: state)
            }
        case let .suspensionBegan(id, p):
            var start = Int64(p.fromUnixMs)
            if let last = lastSuspensionStartMs[id], start <= last { start = last + 1 }
            try journal.beginSuspension(ofSession: id, atMs: start, reason: p.cause.rawValue)
            lastSuspensionStartMs[id] = start
        case let .suspensionEnded(id, at):
            try journal.endSuspension(ofSession: id, atMs: max(Int64(at), lastSuspensionStartMs[id] ?? 0))
        case let .ended(s):
            guard let reason = s.stopReason else { return }
            try journal.atomically { w in
                try w.endSession(s.id, stopReason: reason.rawValue, meterStopWh: s.meterStopWh ?? s.lastKnownEnergyWh,
                                 atMs: Int64(s.stoppedAtUnixMs ?? s.startedAtUnixMs), state: state)
                try messagesOwed?(change, w)
            }
            lastSuspensionStartMs[s.id] = nil
        case .availability:
            break  // the station writes availability to its own store
        case let .preludeBegan(p):
            try journal.atomically { w in
                try w.beginPrelude(SessionPreludeRecord(
                    sessionId: p.id, connectorId: p.connectorId, cause: p.cause.rawValue, idToken: p.idToken?.value,
                    idTokenKind: p.idToken?.kind.rawValue, parentIdToken: p.parentIdToken?.value,
                    startReason: p.startReason?.rawValue, beganAtMs: Int64(clamping: p.beganAtUnixMs), meterWh: p.meterWh))
                try messagesOwed?(change, w)
            }
        case let .preludeEnded(p, _):
            try journal.atomically { w in
                try w.endPrelude(sessionId: p.id)
                try messagesOwed?(change, w)
            }
        }
    }

    /// The preludes the journal holds (see `SessionPrelude`), as core preludes; a row that does
    /// not read as one (an unknown cause) is left out.
    func preludes() throws -> [SessionPrelude] {
        try journal.preludes().compactMap { r in
            guard let cause = SessionPrelude.Cause(rawValue: r.cause) else { return nil }
            let kind = r.idTokenKind.flatMap(IdToken.Kind.init(rawValue:)) ?? .iso14443
            return SessionPrelude(id: r.sessionId, connectorId: r.connectorId, cause: cause,
                                  idToken: r.idToken.map { IdToken($0, kind: kind) },
                                  parentIdToken: r.parentIdToken.map { IdToken($0) },
                                  startReason: r.startReason.flatMap(SessionStartReason.init(rawValue:)),
                                  beganAtUnixMs: UInt64(max(0, r.beganAtMs)), meterWh: r.meterWh)
        }
    }

    /// The sessions the journal holds open (a crash or power cut left them), as core sessions.
    func openSessions() throws -> [Session] {
        try journal.openSessions().map { r in
            let samples = try journal.meterSamples(ofSession: r.id)
            let suspensions = try journal.suspensions(ofSession: r.id)
            let reason = r.startReason.flatMap(SessionStartReason.init(rawValue:)) ?? .local
            let token = Self.token(r.idToken ?? "", startReason: reason)
            var s = Session(id: r.id, connectorId: r.connectorId, idToken: token,
                            parentIdToken: r.parentIdToken.map { IdToken($0) }, startReason: reason,
                            meterStartWh: r.meterStartWh, startedAtUnixMs: UInt64(max(0, r.startedAtMs)),
                            sampledValues: samples.map {
                                SampledValue(atUnixMs: UInt64(max(0, $0.takenAtMs)), energyWh: $0.energyWh, powerW: $0.powerW)
                            },
                            suspendedPeriods: suspensions.map {
                                SuspendedPeriod(cause: $0.reason == "evse" ? .evse : .ev,
                                                fromUnixMs: UInt64(max(0, $0.startedAtMs)),
                                                toUnixMs: $0.endedAtMs.map { UInt64(max(0, $0)) })
                            })
            s.deauthorized = r.deauthorizedAtMs != nil
            s.deauthorizedEnergyLimitWh = r.deauthorizedEnergyLimitWh
            if let stop = r.stopRequestedReason.flatMap(StopReason.init(rawValue:)) {
                s.requestedStop = RequestedStop(reason: stop, idToken: r.stopRequestedIdToken.map { IdToken($0) })
            }
            lastSuspensionStartMs[r.id] = suspensions.last?.startedAtMs
            return s
        }
    }

    /// The journal keeps a token's value; its kind follows from how the session started (a
    /// remote start's token is the backend's, which `IdToken.identifies` matches to the card).
    static func token(_ value: String, startReason: SessionStartReason) -> IdToken {
        IdToken(value, kind: startReason == .freeVend ? .noAuthorization : startReason == .remote ? .central : .iso14443)
    }
}

/// A protocol adapter's hook: queue, through the given journal writer, the messages a session
/// change owes the backend (OCPP 1.6: StartTransaction, StopTransaction). It runs inside the
/// change's own transaction; throwing rolls the change back.
public typealias SessionMessagesOwed = (SessionRecordChange, SessionJournal.Writer) throws -> Void
