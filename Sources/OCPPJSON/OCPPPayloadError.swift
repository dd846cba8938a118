/// Why a payload does not match its OCPP schema, as the CALLERROR code the spec assigns
/// (OCPP-J 1.6 §4.2.3, OCPP-J 2.0.1 §4.3), with the path of the offending field (`meterValue[0].sampledValue[2].unit`;
/// empty for the payload itself).
///
/// Unknown members are reported as `formationViolation`: every 1.6 schema (and every 2.0.1
/// object but CustomDataType) says `additionalProperties: false`, so such a payload does "not
/// conform the PDU structure for Action" (FormationViolation; FormatViolation in 2.0.1), rather
/// than carrying "an invalid value" in a known field (PropertyConstraintViolation).
///
/// Lives here rather than in a message module because the 1.6 and 2.0.1 generated types and the
/// RPC layer all use it.
public enum OCPPPayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The payload is not a JSON object, or has a member the schema does not define.
    case formationViolation(path: String)
    /// A field has the wrong JSON type (`"connectorId": "1"`).
    case typeConstraintViolation(path: String)
    /// A required field is missing, or an array has too few or too many items.
    case occurrenceConstraintViolation(path: String)
    /// A field's value is out of range: not one of its enum values, too long, not a date-time,
    /// not a multiple of 0.1, an integer too large.
    case propertyConstraintViolation(path: String)

    /// The CALLERROR `errorCode`, spelled exactly as OCPP-J 1.6 spells it (including the
    /// spec's "Occurence").
    public var errorCode: String {
        switch self {
        case .formationViolation: return "FormationViolation"
        case .typeConstraintViolation: return "TypeConstraintViolation"
        case .occurrenceConstraintViolation: return "OccurenceConstraintViolation"
        case .propertyConstraintViolation: return "PropertyConstraintViolation"
        }
    }

    /// The CALLERROR `errorCode` as OCPP-J 2.0.1 spells it (FormatViolation,
    /// OccurrenceConstraintViolation).
    public var ocpp201ErrorCode: String {
        switch self {
        case .formationViolation: return "FormatViolation"
        case .typeConstraintViolation: return "TypeConstraintViolation"
        case .occurrenceConstraintViolation: return "OccurrenceConstraintViolation"
        case .propertyConstraintViolation: return "PropertyConstraintViolation"
        }
    }

    public var path: String {
        switch self {
        case .formationViolation(let path), .typeConstraintViolation(let path),
            .occurrenceConstraintViolation(let path), .propertyConstraintViolation(let path):
            return path
        }
    }

    public var description: String {
        let field = path.isEmpty ? "payload" : "'\(path)'"
        switch self {
        case .formationViolation: return "FormationViolation: \(field) is not an object of the expected shape or has an unknown member"
        case .typeConstraintViolation: return "TypeConstraintViolation: \(field) has the wrong type"
        case .occurrenceConstraintViolation: return "OccurenceConstraintViolation: \(field) is missing or has the wrong number of items"
        case .propertyConstraintViolation: return "PropertyConstraintViolation: \(field) has a value outside what the schema allows"
        }
    }
}
