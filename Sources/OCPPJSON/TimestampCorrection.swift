extension OCPPTimestamp {
    /// `payload` with every `timestamp` member (at any depth: a StartTransaction's own, each
    /// meter value's) that lies before `floorMs` moved by `deltaMs`. Both OCPP versions name
    /// their message and meter-value times `timestamp`. A time before the floor was taken from
    /// a wall clock that was not yet set (a charger without an RTC battery boots at 1970);
    /// times at or after it were right and stay.
    public static func shiftingTimestamps(in payload: JSONValue, recordedBeforeMs floorMs: UInt64, byMs deltaMs: Int64) -> JSONValue {
        switch payload {
        case let .array(items):
            return .array(items.map { shiftingTimestamps(in: $0, recordedBeforeMs: floorMs, byMs: deltaMs) })
        case let .object(object):
            var shifted = JSONObject(minimumCapacity: object.count)
            for (key, value) in object.members {
                if key == "timestamp", case let .string(text) = value, let ms = unixMs(text), ms < floorMs {
                    let moved = Int64(clamping: ms).addingReportingOverflow(deltaMs)
                    shifted[key] = moved.overflow || moved.partialValue < 0 ? value : .string(string(unixMs: UInt64(moved.partialValue)))
                } else {
                    shifted[key] = shiftingTimestamps(in: value, recordedBeforeMs: floorMs, byMs: deltaMs)
                }
            }
            return .object(shifted)
        default:
            return payload
        }
    }

    /// The same on a payload as text; nil when the text is not JSON (left as it is).
    public static func shiftingTimestamps(inText text: String, recordedBeforeMs floorMs: UInt64, byMs deltaMs: Int64) -> String? {
        guard let json = try? JSONParser.parse(text) else { return nil }
        return JSONWriter.writeString(shiftingTimestamps(in: json, recordedBeforeMs: floorMs, byMs: deltaMs))
    }
}
