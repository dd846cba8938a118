import OCPPJSON

/// The error codes of OCPP-J, independent of how a protocol version spells them on the wire.
public enum OCPPErrorCode: Sendable, Hashable, CaseIterable {
    case notImplemented
    case notSupported
    case internalError
    case protocolError
    case securityError
    /// 1.6: "FormationViolation", 2.0.1: "FormatViolation".
    case formationViolation
    case propertyConstraintViolation
    /// 1.6: "OccurenceConstraintViolation" (sic), 2.0.1: "OccurrenceConstraintViolation".
    case occurrenceConstraintViolation
    case typeConstraintViolation
    case genericError
    /// 2.0.1 only; 1.6 has no such code and answers ProtocolError instead.
    case messageTypeNotSupported
    /// 2.0.1 only; 1.6 answers ProtocolError instead.
    case rpcFrameworkError
}

/// The error of a CALLERROR: what we answer to a CALL we cannot serve, or what the other side
/// answered to ours.
public struct OCPPCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: OCPPErrorCode
    public var errorDescription: String
    /// Always a JSON object on the wire; anything else is replaced by `{}` when sent.
    public var details: JSONValue

    public init(_ code: OCPPErrorCode, _ errorDescription: String = "", details: JSONValue = .object(JSONObject())) {
        self.code = code
        self.errorDescription = errorDescription
        self.details = details
    }

    public var description: String { "\(code): \(errorDescription)" }
}

/// How one OCPP version frames its RPC errors: the spelling table and which code answers
/// which kind of broken frame.
public struct OCPPRPCDialect: Sendable {
    /// The WebSocket subprotocol this dialect belongs to ("ocpp1.6", "ocpp2.0.1").
    public let subprotocol: String
    /// Wire spelling of each code this version knows.
    public let spellings: [OCPPErrorCode: String]
    /// Answer to a frame whose message type id is not 2, 3 or 4.
    public let unknownMessageTypeCode: OCPPErrorCode
    /// Answer to a CALL whose array structure is wrong (element count, action not a string).
    public let malformedFrameCode: OCPPErrorCode
    /// Answer to a CALL whose payload is not a JSON object.
    public let malformedPayloadCode: OCPPErrorCode
    /// Longest errorDescription sent (2.0.1 limits it to 255).
    public let maxDescriptionLength: Int

    public init(subprotocol: String, spellings: [OCPPErrorCode: String], unknownMessageTypeCode: OCPPErrorCode,
                malformedFrameCode: OCPPErrorCode, malformedPayloadCode: OCPPErrorCode,
                maxDescriptionLength: Int = 255) {
        self.subprotocol = subprotocol
        self.spellings = spellings
        self.unknownMessageTypeCode = unknownMessageTypeCode
        self.malformedFrameCode = malformedFrameCode
        self.malformedPayloadCode = malformedPayloadCode
        self.maxDescriptionLength = maxDescriptionLength
    }

    /// The wire spelling; a code this version lacks is sent as its ProtocolError (or GenericError).
    public func spelling(of code: OCPPErrorCode) -> String {
        spellings[code] ?? spellings[.protocolError] ?? spellings[.genericError] ?? "GenericError"
    }

    /// The code for a wire spelling, nil when this version does not know it.
    public func code(spelled text: String) -> OCPPErrorCode? {
        spellings.first { $0.value == text }?.key
    }

    public static let ocpp16 = OCPPRPCDialect(
        subprotocol: "ocpp1.6",
        spellings: [
            .notImplemented: "NotImplemented",
            .notSupported: "NotSupported",
            .internalError: "InternalError",
            .protocolError: "ProtocolError",
            .securityError: "SecurityError",
            .formationViolation: "FormationViolation",
            .propertyConstraintViolation: "PropertyConstraintViolation",
            .occurrenceConstraintViolation: "OccurenceConstraintViolation",
            .typeConstraintViolation: "TypeConstraintViolation",
            .genericError: "GenericError",
        ],
        unknownMessageTypeCode: .protocolError,
        malformedFrameCode: .protocolError,
        malformedPayloadCode: .formationViolation)

    public static let ocpp201 = OCPPRPCDialect(
        subprotocol: "ocpp2.0.1",
        spellings: [
            .notImplemented: "NotImplemented",
            .notSupported: "NotSupported",
            .internalError: "InternalError",
            .protocolError: "ProtocolError",
            .securityError: "SecurityError",
            .formationViolation: "FormatViolation",
            .propertyConstraintViolation: "PropertyConstraintViolation",
            .occurrenceConstraintViolation: "OccurrenceConstraintViolation",
            .typeConstraintViolation: "TypeConstraintViolation",
            .genericError: "GenericError",
            .messageTypeNotSupported: "MessageTypeNotSupported",
            .rpcFrameworkError: "RpcFrameworkError",
        ],
        unknownMessageTypeCode: .messageTypeNotSupported,
        malformedFrameCode: .rpcFrameworkError,
        malformedPayloadCode: .formationViolation)
}
