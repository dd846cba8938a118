import OCPPJSON

/// The 1.6 adapter's name for the timestamps both versions share (OCPPJSON's `OCPPTimestamp`).
public typealias OCPP16Timestamp = OCPPTimestamp
