import OCPPJSON

/// What every generated payload type offers.
public protocol OCPP16Payload: Sendable, Hashable {
    /// Decodes and validates a payload received from the other side.
    init(json: JSONValue) throws(OCPPPayloadError)
    /// The payload as JSON, members in schema order, absent optionals left out.
    func toJSON() -> JSONValue
}

extension OCPP16Payload {
    /// Checks an outbound payload against the same schema rules as inbound ones (lengths,
    /// array sizes, date-time shapes), so we never send what we would refuse.
    public func validate() throws(OCPPPayloadError) {
        _ = try Self(json: toJSON())
    }
}

/// A request of one action (`BootNotificationRequest`, …).
public protocol OCPP16RequestPayload: OCPP16Payload {
    associatedtype Response: OCPP16ResponsePayload
    static var action: OCPP16Action { get }
}

/// The response to one action (`BootNotificationResponse`, …).
public protocol OCPP16ResponsePayload: OCPP16Payload {
    static var action: OCPP16Action { get }
}
