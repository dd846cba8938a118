import ChargingCore
import Storage

/// Writes the core's `SessionRecordChange`s into the `SessionJournal` (each change one fsynced
/// transaction) and rebuilds core `Session`s from it after a restart.
///
/// The journal stores samples and suspensions as rows; the core hands over whole sessions, so
/// the recorder remembers per session what is already on disk and writes only the difference.
final class SessionRecorder {
    let journal: SessionJournal

    /// What of one session is on disk: samples up to `lastSampleMs`, the first `begun`
    /// suspended periods begun and the first `ended` ended (the core only appends periods and
    /// only closes the last), `lastStartMs` the latest period start written (starts are unique
    /// per session in the journal; two periods starting in the same millisecond are written a
    /// millisecond apart).
    struct Written: Sendable {
        var lastSampleMs: UInt64?
        var begun = 0
        var ended = 0
        var lastStartMs: Int64?
    }
    private var written: [String: Written] = [:]

    init(journal: SessionJournal) { self.journal = journal }

    func started(_ s: Session, state: String) throws {
        written[s.id] = try journal.atomically { w in
            _ = try w.beginSession(SessionStart(id: s.id, connectorId: s.connectorId, idToken: s.idToken.value,
                                                parentIdToken: s.parentIdToken?.value, state: state,
                                                startReason: s.startReason.rawValue,
                                                startedAtMs: Int64(s.startedAtUnixMs), meterStartWh: s.meterStartWh))
            return try Self.writeDelta(s, w, Written())
        }
    }

    func updated(_ s: Session, state: String) throws {
        let before = written[s.id] ?? Written()
        written[s.id] = try journal.atomically { w in
            try w.updateSession(s.id, atMs: Int64(s.sampledValues.last?.atUnixMs ?? s.startedAtUnixMs), state: state)
            return try Self.writeDelta(s, w, before)
        }
    }

    /// Ends the session in the journal, once. An already ended session is reported by the
    /// journal as `sessionAlreadyEnded` and changes nothing.
    func ended(_ s: Session, state: String) throws {
        guard let reason = s.stopReason else { return }
        let before = written[s.id] ?? Written()
        _ = try journal.atomically { w in
            let after = try Self.writeDelta(s, w, before)
            _ = try w.endSession(s.id, stopReason: reason.rawValue, meterStopWh: s.meterStopWh ?? s.lastKnownEnergyWh,
                                 atMs: Int64(s.stoppedAtUnixMs ?? s.startedAtUnixMs), state: state)
            return after
        }
        written[s.id] = nil
    }

    private static func writeDelta(_ s: Session, _ w: SessionJournal.Writer, _ before: Written) throws -> Written {
        var out = before
        for v in s.sampledValues where before.lastSampleMs.map({ v.atUnixMs > $0 }) ?? true {
            try w.appendMeterSample(SessionMeterSample(takenAtMs: Int64(v.atUnixMs), energyWh: v.energyWh, powerW: v.powerW),
                                    toSession: s.id)
            out.lastSampleMs = max(out.lastSampleMs ?? 0, v.atUnixMs)
        }
        for (i, p) in s.suspendedPeriods.enumerated() {
            if i >= out.begun {
                var start = Int64(p.fromUnixMs)
                if let last = out.lastStartMs, start <= last { start = last + 1 }
                try w.beginSuspension(ofSession: s.id, atMs: start, reason: p.cause.rawValue)
                out.begun = i + 1
                out.lastStartMs = start
            }
            if let to = p.toUnixMs, i >= out.ended {
                _ = try w.endSuspension(ofSession: s.id, atMs: max(Int64(to), out.lastStartMs ?? 0))
                out.ended = i + 1
            }
        }
        return out
    }

    /// The sessions the journal holds open (a crash or power cut left them), as core sessions.
    func openSessions() throws -> [Session] {
        try journal.openSessions().map { r in
            let samples = try journal.meterSamples(ofSession: r.id)
            let suspensions = try journal.suspensions(ofSession: r.id)
            let reason = r.startReason.flatMap(SessionStartReason.init(rawValue:)) ?? .local
            let token = IdToken(r.idToken ?? "", kind: reason == .freeVend ? .noAuthorization : reason == .remote ? .central : .iso14443)
            let s = Session(id: r.id, connectorId: r.connectorId, idToken: token,
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
            written[s.id] = Written(lastSampleMs: samples.last.map { UInt64(max(0, $0.takenAtMs)) },
                                    begun: suspensions.count, ended: suspensions.filter { $0.endedAtMs != nil }.count,
                                    lastStartMs: suspensions.last?.startedAtMs)
            return s
        }
    }
}
