import OCPPJSON

/// One OCPP-J RPC frame: `[2, id, action, payload]`, `[3, id, payload]` or
/// `[4, id, code, description, details]`.
public enum OCPPRPCFrame: Sendable, Hashable {
    case call(id: String, action: String, payload: JSONValue)
    case callResult(id: String, payload: JSONValue)
    case callError(id: String, code: String, description: String, details: JSONValue)

    public static let callTypeID: Int64 = 2
    public static let callResultTypeID: Int64 = 3
    public static let callErrorTypeID: Int64 = 4
    /// OCPP-J limits message ids to 36 characters.
    public static let maxMessageIDLength = 36

    public var messageID: String {
        switch self {
        case .call(let id, _, _), .callResult(let id, _), .callError(let id, _, _, _): return id
        }
    }

    /// The frame as JSON text.
    public func encoded() -> String {
        let value: JSONValue
        switch self {
        case .call(let id, let action, let payload):
            value = .array([.integer(Self.callTypeID), .string(id), .string(action), payload])
        case .callResult(let id, let payload):
            value = .array([.integer(Self.callResultTypeID), .string(id), payload])
        case .callError(let id, let code, let description, let details):
            let objectDetails: JSONValue = details.objectValue == nil ? .object(JSONObject()) : details
            value = .array([.integer(Self.callErrorTypeID), .string(id), .string(code), .string(description),
                            objectDetails])
        }
        return JSONWriter.writeString(value)
    }

    /// Reads a frame; never throws past its typed error, whatever the input.
    public static func decode(_ text: String) -> Result<OCPPRPCFrame, OCPPRPCFrameError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)  // its UTF-8 in place, no copy
        } catch {
            return .failure(OCPPRPCFrameError(.notJSON, messageTypeID: nil, messageID: nil,
                                              reason: "frame is not valid JSON: \(error)"))
        }
        return decode(value)
    }

    public static func decode(_ value: JSONValue) -> Result<OCPPRPCFrame, OCPPRPCFrameError> {
        guard let elements = value.arrayValue else {
            return .failure(OCPPRPCFrameError(.notAnArray, messageTypeID: nil, messageID: nil,
                                              reason: "frame is a JSON \(value.typeName), not an array"))
        }
        let typeID = elements.first.flatMap(integralValue)
        // Without a string message id there is nobody to answer (OCPP-J: such frames are dropped).
        guard elements.count >= 2, let id = elements[1].stringValue else {
            return .failure(OCPPRPCFrameError(.noMessageID, messageTypeID: typeID, messageID: nil,
                                              reason: "frame has no string message id"))
        }
        func fail(_ kind: OCPPRPCFrameError.Kind, _ reason: String) -> Result<OCPPRPCFrame, OCPPRPCFrameError> {
            .failure(OCPPRPCFrameError(kind, messageTypeID: typeID, messageID: id, reason: reason))
        }
        guard let typeID else {
            return fail(.malformedFrame, "message type id is \(elements[0].typeName), not an integer")
        }
        // A character is at least one UTF-8 byte, so an id of at most 36 bytes needs no count
        // of its characters (a walk over grapheme clusters, 1,000 instructions for a UUID).
        if id.isEmpty || (id.utf8.count > maxMessageIDLength && id.count > maxMessageIDLength) {
            return fail(.malformedFrame, "message id must be 1 to \(maxMessageIDLength) characters, got \(id.count)")
        }
        switch typeID {
        case callTypeID:
            guard elements.count == 4 else {
                return fail(.malformedFrame, "CALL has \(elements.count) elements, expected 4")
            }
            guard let action = elements[2].stringValue else {
                return fail(.malformedFrame, "CALL action is \(elements[2].typeName), not a string")
            }
            guard elements[3].objectValue != nil else {
                return fail(.malformedPayload, "CALL payload for \(action) is \(elements[3].typeName), not an object")
            }
            return .success(.call(id: id, action: action, payload: elements[3]))
        case callResultTypeID:
            guard elements.count == 3 else {
                return fail(.malformedFrame, "CALLRESULT has \(elements.count) elements, expected 3")
            }
            guard elements[2].objectValue != nil else {
                return fail(.malformedPayload, "CALLRESULT payload is \(elements[2].typeName), not an object")
            }
            return .success(.callResult(id: id, payload: elements[2]))
        case callErrorTypeID:
            guard elements.count == 5 else {
                return fail(.malformedFrame, "CALLERROR has \(elements.count) elements, expected 5")
            }
            guard let code = elements[2].stringValue, let description = elements[3].stringValue else {
                return fail(.malformedFrame, "CALLERROR code and description must be strings")
            }
            guard elements[4].objectValue != nil else {
                return fail(.malformedPayload, "CALLERROR details is \(elements[4].typeName), not an object")
            }
            return .success(.callError(id: id, code: code, description: description, details: elements[4]))
        default:
            return fail(.unknownMessageType, "unknown message type id \(typeID)")
        }
    }

    private static func integralValue(_ value: JSONValue) -> Int64? {
        if let i = value.int64Value { return i }
        return nil
    }
}

/// Why an inbound frame could not be read, and as much of it as could be.
public struct OCPPRPCFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case notJSON
        case notAnArray
        case noMessageID
        case malformedFrame
        case malformedPayload
        case unknownMessageType
    }

    public var kind: Kind
    public var messageTypeID: Int64?
    /// The message id when it could be read: only then can an error be answered.
    public var messageID: String?
    public var reason: String

    public init(_ kind: Kind, messageTypeID: Int64?, messageID: String?, reason: String) {
        self.kind = kind
        self.messageTypeID = messageTypeID
        self.messageID = messageID
        self.reason = reason
    }

    public var description: String { reason }
}
