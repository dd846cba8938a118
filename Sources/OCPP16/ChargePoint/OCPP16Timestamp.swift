import OCPPJSON

/// RFC 3339 UTC timestamps for OCPP messages, from Unix milliseconds (no Foundation).
public enum OCPP16Timestamp {
    public static func string(unixMs: UInt64) -> String {
        RFC3339.string(unixSeconds: Int64(unixMs / 1_000), milliseconds: Int(unixMs % 1_000))
    }
}
