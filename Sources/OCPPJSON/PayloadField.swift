/// Field readers used by the generated `init(json:)`s of the OCPP message modules. Paths are
/// only built when something is wrong, so a valid payload costs no string work beyond its values.
public enum PayloadField {
    public static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    public static func index(_ path: String, _ i: Int) -> String { path + "[" + String(i) + "]" }

    /// The object at `path`; the payload itself (empty path) must be an object or the whole
    /// message is malformed (FormationViolation), a nested field of another type is a
    /// TypeConstraintViolation.
    public static func object(_ value: JSONValue, path: @autoclosure () -> String) throws(OCPPPayloadError) -> JSONObject {
        guard case .object(let object) = value else {
            if path().isEmpty { throw .formationViolation(path: path()) }
            throw .typeConstraintViolation(path: path())
        }
        return object
    }

    /// Fails on the first member whose name is not in `known`.
    public static func rejectUnknownMembers(_ object: JSONObject, known: Set<String>, path: @autoclosure () -> String)
        throws(OCPPPayloadError)
    {
        for key in object.keys where !known.contains(key) {
            throw .formationViolation(path: join(path(), key))
        }
    }

    /// The members of an open object (2.0.1's CustomDataType) that the schema does not name.
    public static func additionalMembers(_ object: JSONObject, known: Set<String>) -> JSONObject {
        var extra = JSONObject()
        for (key, value) in object.members where !known.contains(key) { extra[key] = value }
        return extra
    }

    @inline(__always)
    public static func required(_ object: JSONObject, _ key: String, path: @autoclosure () -> String) throws(OCPPPayloadError) -> JSONValue {
        guard let value = object[key] else { throw .occurrenceConstraintViolation(path: join(path(), key)) }
        return value
    }

    // MARK: scalars (value already taken out of the object)

    public static func string(_ value: JSONValue, path: @autoclosure () -> String, maxLength: Int? = nil) throws(OCPPPayloadError) -> String {
        guard case .string(let s) = value else { throw .typeConstraintViolation(path: path()) }
        if let maxLength, s.utf8.count > maxLength, s.unicodeScalars.count > maxLength {
            throw .propertyConstraintViolation(path: path())
        }
        return s
    }

    public static func dateTime(_ value: JSONValue, path: @autoclosure () -> String) throws(OCPPPayloadError) -> String {
        guard case .string(let s) = value else { throw .typeConstraintViolation(path: path()) }
        guard RFC3339.isDateTime(s) else { throw .propertyConstraintViolation(path: path()) }
        return s
    }

    public static func integer(
        _ value: JSONValue, path: @autoclosure () -> String, minimum: Int? = nil, maximum: Int? = nil
    ) throws(OCPPPayloadError) -> Int {
        let v: Int
        switch value {
        case .integer(let i):
            guard let exact = Int(exactly: i) else { throw .propertyConstraintViolation(path: path()) }
            v = exact
        case .double(let d):
            // JSON does not tell 5 from 5.0; a fraction makes it a different type.
            guard d.rounded(.towardZero) == d else { throw .typeConstraintViolation(path: path()) }
            guard let exact = Int(exactly: d) else { throw .propertyConstraintViolation(path: path()) }
            v = exact
        default:
            throw .typeConstraintViolation(path: path())
        }
        if let minimum, v < minimum { throw .propertyConstraintViolation(path: path()) }
        if let maximum, v > maximum { throw .propertyConstraintViolation(path: path()) }
        return v
    }

    public static func number(
        _ value: JSONValue, path: @autoclosure () -> String, multipleOf: Double? = nil,
        minimum: Double? = nil, maximum: Double? = nil
    ) throws(OCPPPayloadError) -> Double {
        let d: Double
        switch value {
        case .integer(let i): d = Double(i)
        case .double(let x): d = x
        default: throw .typeConstraintViolation(path: path())
        }
        if let multipleOf {
            // Decimal steps like 0.1 are not exact in binary; allow rounding noise.
            let steps = d / multipleOf
            guard abs(steps - steps.rounded()) <= 1e-6 * max(1, abs(steps)) else {
                throw .propertyConstraintViolation(path: path())
            }
        }
        if let minimum, d < minimum { throw .propertyConstraintViolation(path: path()) }
        if let maximum, d > maximum { throw .propertyConstraintViolation(path: path()) }
        return d
    }

    public static func boolean(_ value: JSONValue, path: @autoclosure () -> String) throws(OCPPPayloadError) -> Bool {
        guard case .bool(let b) = value else { throw .typeConstraintViolation(path: path()) }
        return b
    }

    public static func enumeration<E: RawRepresentable>(_ value: JSONValue, path: @autoclosure () -> String, as type: E.Type)
        throws(OCPPPayloadError) -> E where E.RawValue == String
    {
        guard case .string(let s) = value else { throw .typeConstraintViolation(path: path()) }
        guard let e = E(rawValue: s) else { throw .propertyConstraintViolation(path: path()) }
        return e
    }

    public static func array(_ value: JSONValue, path: @autoclosure () -> String, minItems: Int?, maxItems: Int?)
        throws(OCPPPayloadError) -> [JSONValue]
    {
        guard case .array(let items) = value else { throw .typeConstraintViolation(path: path()) }
        if let minItems, items.count < minItems { throw .occurrenceConstraintViolation(path: path()) }
        if let maxItems, items.count > maxItems { throw .occurrenceConstraintViolation(path: path()) }
        return items
    }

    /// Decodes every element with `element`, which gets the element and its index.
    public static func elements<T>(
        _ items: [JSONValue],
        _ element: (JSONValue, Int) throws(OCPPPayloadError) -> T
    ) throws(OCPPPayloadError) -> [T] {
        var result: [T] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            result.append(try element(item, i))
        }
        return result
    }
}

/// Shape check for RFC 3339 `date-time` (JSON Schema's `format: date-time`):
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T`/`Z` in either case, with field ranges
/// checked (month 1-12, day 1-31, hour 0-23, minute 0-59, second 0-60 for leap seconds).
/// The calendar (30 February) is left to whoever turns the text into an instant.
public enum RFC3339 {
    /// `YYYY-MM-DDThh:mm:ss.mmmZ` (UTC, milliseconds) for a Unix time, without Foundation: the
    /// one formatter behind OCPP message timestamps and the frame log.
    public static func string(unixSeconds seconds: Int64, milliseconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3_600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(Int64(milliseconds), 3))Z"
    }

    public static func isDateTime(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isDateTime(bytes: $0) }
    }

    static func isDateTime(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        // Shortest form: 2020-01-01T00:00:00Z = 20 bytes.
        guard b.count >= 20, b.count <= 64 else { return false }
        func digits(_ at: Int, _ n: Int) -> Int? {
            var v = 0
            for i in at..<(at + n) {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            return v
        }
        guard digits(0, 4) != nil, b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), (1...12).contains(month), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), (1...31).contains(day),
            b[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(11, 2), hour < 24, b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), minute < 60, b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2), second <= 60
        else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            guard i > start, i < b.count else { return false }
        }
        if b[i] | 0x20 == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count,
            let offsetHour = digits(i + 1, 2), offsetHour < 24, b[i + 3] == UInt8(ascii: ":"),
            let offsetMinute = digits(i + 4, 2), offsetMinute < 60
        else { return false }
        return true
    }
}
