import OCPPJSON

/// What every generated payload type offers.
public protocol OCPP201Payload: Sendable, Hashable {
    /// Decodes and validates a payload received from the other side.
    init(json: JSONValue) throws(OCPPPayloadError)
    /// The payload as JSON, members in schema order, absent optionals left out.
    func toJSON() -> JSONValue
}

extension OCPP201Payload {
    /// Checks an outbound payload against the same schema rules as inbound ones (lengths,
    /// array sizes, date-time shapes), so we never send what we would refuse.
    public func validate() throws(OCPPPayloadError) {
        _ = try Self(json: toJSON())
    }
}

/// A request of one action (`BootNotificationRequest`, …).
public protocol OCPP201RequestPayload: OCPP201Payload {
    associatedtype Response: OCPP201ResponsePayload
    static var action: OCPP201Action { get }
}

/// The response to one action (`BootNotificationResponse`, …).
public protocol OCPP201ResponsePayload: OCPP201Payload {
    static var action: OCPP201Action { get }
}
