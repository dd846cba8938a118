import OCPPJSON

/// The clock correction's view of queued TransactionEvents (docs/ROBUSTNESS.md, "The clock").
extension TransactionEventService {
    /// The queued payload with its times taken before the clock was set (before `floorMs`)
    /// moved by `deltaMs`: the event's `timestamp` and each meter value's.
    public static func shiftingTimestamps(_ payload: String, floorMs: UInt64, deltaMs: Int64) -> String? {
        OCPPTimestamp.shiftingTimestamps(inText: payload, recordedBeforeMs: floorMs, byMs: deltaMs)
    }

    /// A TransactionEvent recorded in an earlier boot before its clock was set: its times cannot
    /// be corrected. It is sent with `offline: true` — the event did happen while the station
    /// could not reach the CSMS (it had not even booted towards it) — and its 1970 timestamp,
    /// which the CSMS can recognise as "time unknown" rather than a time it would bill by.
    public static func flaggedUncorrectable(kind: String, payload: String) -> String? {
        guard kind == Self.kind, var object = (try? JSONParser.parse(payload))?.objectValue else { return nil }
        object["offline"] = .bool(true)
        return JSONWriter.writeString(.object(object))
    }
}
