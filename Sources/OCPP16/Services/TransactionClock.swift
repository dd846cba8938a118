import OCPPJSON

/// The clock correction's view of queued Start/StopTransaction and MeterValues
/// (docs/ROBUSTNESS.md, "The clock").
extension TransactionService {
    /// The queued payload with its times taken before the clock was set (before `floorMs`)
    /// moved by `deltaMs`: the message's `timestamp`, each meter value's and each of a
    /// StopTransaction's transactionData. OCPP 1.6 has no field to flag a time as unknown: a
    /// message recorded in an earlier boot before its clock was set is sent as recorded, and
    /// the station logs it (see `Station.correctTimes`).
    public static func shiftingTimestamps(_ payload: String, floorMs: UInt64, deltaMs: Int64) -> String? {
        OCPPTimestamp.shiftingTimestamps(inText: payload, recordedBeforeMs: floorMs, byMs: deltaMs)
    }
}
