import ChargingCore
import Storage

/// Writes the core's `SessionRecordChange`s into the `SessionJournal` (each change one fsynced
/// transaction) and rebuilds core `Session`s from it after a restart.
///
/// The journal stores samples and suspensions as rows; the core hands over whole sessions, so
/// the recorder remembers per session what is already on disk and writes only the difference.
final class SessionRecorder {
    let journal: SessionJournal
    private var lastSampleMs: [String: UInt64] = [:]
    private var openSuspension: [String: UInt64] = [:]
    private var closedSuspensions: [String: Set<UInt64>] = [:]

    init(journal: SessionJournal) { self.journal = journal }

    func started(_ s: Session, state: String) throws {
        try journal.atomically { w in
            _ = try w.beginSession(SessionStart(id: s.id, connectorId: s.connectorId, idToken: s.idToken.value,
                                                parentIdToken: s.parentIdToken?.value, state: state,
                                                startReason: s.startReason.rawValue,
                                                startedAtMs: Int64(s.startedAtUnixMs), meterStartWh: s.meterStartWh))
            try Self.writeDelta(s, w, lastSampleMs: nil, openSuspension: nil, closed: [])
        }
        remember(s)
    }

    func updated(_ s: Session, state: String) throws {
        let (last, open, closed) = (lastSampleMs[s.id], openSuspension[s.id], closedSuspensions[s.id] ?? [])
        try journal.atomically { w in
            try w.updateSession(s.id, atMs: Int64(s.sampledValues.last?.atUnixMs ?? s.startedAtUnixMs), state: state)
            try Self.writeDelta(s, w, lastSampleMs: last, openSuspension: open, closed: closed)
        }
        remember(s)
    }

    /// Ends the session in the journal, once. An already ended session is reported by the
    /// journal as `sessionAlreadyEnded` and changes nothing.
    func ended(_ s: Session, state: String) throws {
        guard let reason = s.stopReason else { return }
        let (last, open, closed) = (lastSampleMs[s.id], openSuspension[s.id], closedSuspensions[s.id] ?? [])
        try journal.atomically { w in
            try Self.writeDelta(s, w, lastSampleMs: last, openSuspension: open, closed: closed)
            _ = try w.endSession(s.id, stopReason: reason.rawValue, meterStopWh: s.meterStopWh ?? s.lastKnownEnergyWh,
                                 atMs: Int64(s.stoppedAtUnixMs ?? s.startedAtUnixMs), state: state)
        }
        lastSampleMs[s.id] = nil
        openSuspension[s.id] = nil
        closedSuspensions[s.id] = nil
    }

    private func remember(_ s: Session) {
        if let t = s.sampledValues.last?.atUnixMs { lastSampleMs[s.id] = max(t, lastSampleMs[s.id] ?? 0) }
        openSuspension[s.id] = s.suspendedPeriods.last.flatMap { $0.toUnixMs == nil ? $0.fromUnixMs : nil }
        closedSuspensions[s.id] = Set(s.suspendedPeriods.filter { $0.toUnixMs != nil }.map(\.fromUnixMs))
    }

    private static func writeDelta(_ s: Session, _ w: SessionJournal.Writer, lastSampleMs: UInt64?,
                                   openSuspension: UInt64?, closed: Set<UInt64>) throws {
        for v in s.sampledValues where lastSampleMs.map({ v.atUnixMs > $0 }) ?? true {
            try w.appendMeterSample(SessionMeterSample(takenAtMs: Int64(v.atUnixMs), energyWh: v.energyWh, powerW: v.powerW),
                                    toSession: s.id)
        }
        var open = openSuspension
        for p in s.suspendedPeriods where !closed.contains(p.fromUnixMs) {
            if open != p.fromUnixMs {
                if open != nil { _ = try w.endSuspension(ofSession: s.id, atMs: Int64(p.fromUnixMs)) }
                try w.beginSuspension(ofSession: s.id, atMs: Int64(p.fromUnixMs), reason: p.cause.rawValue)
                open = p.fromUnixMs
            }
            if let to = p.toUnixMs {
                _ = try w.endSuspension(ofSession: s.id, atMs: Int64(to))
                open = nil
            }
        }
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
            remember(s)
            return s
        }
    }
}
