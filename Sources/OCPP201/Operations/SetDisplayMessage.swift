import ChargingCore
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage

/// SetDisplayMessage (O01–O04, O06): a message for the driver's display. Every status the spec
/// has is answered, and a refused message changes nothing:
/// - Rejected: DisplayMessageCtrlr.Enabled is false, the station holds DisplayMessages' maximum
///   already (a message with a held id replaces it and is accepted), the window ends before it
///   starts or has passed, an unreadable date, ASCII content that is not ASCII, storage failed;
/// - NotSupportedMessageFormat: HTML and URI (the display shows plain text), or a format
///   the schema does not know;
/// - NotSupportedPriority / NotSupportedState: a priority or state the schema does not know
///   (all of the schema's are supported);
/// - UnknownTransaction: a transactionId that does not run here.
enum SetDisplayMessageOperation {
    typealias Response = SetDisplayMessageResponse

    /// A priority, state or format outside the schema's lists is answered with its status, not
    /// a CallError: the spec has a status for each (checked before the schema).
    static func unsupportedValue(_ payload: JSONValue) -> OCPPCallAnswer? {
        guard let info = payload["message"] else { return nil }
        func unknown<E: RawRepresentable>(_ value: JSONValue?, _ type: E.Type) -> Bool where E.RawValue == String {
            guard let text = value?.stringValue else { return false }
            return E(rawValue: text) == nil
        }
        let status: Response.DisplayMessageStatusEnumType
        if unknown(info["priority"], MessagePriorityEnumType.self) {
            status = .notSupportedPriority
        } else if unknown(info["state"], MessageStateEnumType.self) {
            status = .notSupportedState
        } else if unknown(info["message"]?["format"], MessageFormatEnumType.self) {
            status = .notSupportedMessageFormat
        } else {
            return nil
        }
        return OCPPCallAnswer(.success(Response(status: status, statusInfo: StatusInfoType(reasonCode: "UnsupportedValue"))
            .toJSON()))
    }

    static func answer(_ status: Response.DisplayMessageStatusEnumType, _ reason: String, _ detail: String) -> Response {
        Response(status: status, statusInfo: StatusInfoType(reasonCode: reason, additionalInfo: String(detail.prefix(512))))
    }
}

extension OCPP201ChargingStation {
    func setDisplayMessage(_ request: SetDisplayMessageRequest) -> SetDisplayMessageResponse {
        typealias Op = SetDisplayMessageOperation
        let info = request.message
        guard settings.displayMessagesEnabled else {
            return Op.answer(.rejected, "Disabled", "DisplayMessageCtrlr.Enabled is false")
        }
        switch info.message.format {
        case .html, .uri:
            return Op.answer(.notSupportedMessageFormat, "UnsupportedFormat",
                             "\(info.message.format.rawValue) is not rendered by this display; ASCII and UTF8 are")
        case .ascii where !info.message.content.unicodeScalars.allSatisfy(\.isASCII):
            return Op.answer(.rejected, "InvalidValue", "the content is not ASCII")
        case .ascii, .utf8:
            break
        }
        let starts = info.startDateTime.map { OCPPTimestamp.unixMs($0) }
        let ends = info.endDateTime.map { OCPPTimestamp.unixMs($0) }
        if starts == .some(nil) || ends == .some(nil) {
            return Op.answer(.rejected, "InvalidValue", "startDateTime or endDateTime is not a date")
        }
        let start = starts.flatMap { $0 }.map { Int64(clamping: $0) }
        let end = ends.flatMap { $0 }.map { Int64(clamping: $0) }
        if let start, let end, end <= start {
            return Op.answer(.rejected, "InvalidValue", "endDateTime is not after startDateTime")
        }
        if let end, end <= Int64(clamping: unixMs()) {
            return Op.answer(.rejected, "InvalidValue", "endDateTime has passed")
        }
        if let tx = info.transactionId, !transactions.status(ofTransaction: tx).ongoing {
            return Op.answer(.unknownTransaction, "UnknownTransaction", "transaction \(tx) does not run on this station")
        }
        purgeExpiredDisplayMessages()
        let stored = StoredDisplayMessage(id: info.id, priority: info.priority.rawValue, state: info.state?.rawValue,
                                          startsAtMs: start, endsAtMs: end, transactionId: info.transactionId,
                                          format: info.message.format.rawValue, language: info.message.language,
                                          content: info.message.content)
        do {
            switch try displayMessages.put(stored, limit: DisplayMessageCapacity.messages) {
            case .full:
                return Op.answer(.rejected, "OutOfStorage",
                                 "the station holds \(DisplayMessageCapacity.messages) messages, its DisplayMessages maximum")
            case .stored, .replaced:
                break
            }
        } catch {
            logger.error("SetDisplayMessage \(info.id): cannot store it: \(error)")
            return Op.answer(.rejected, "InternalError", "the message could not be stored")
        }
        station.submit(.showMessage(DisplayMessageService.coreMessage(stored)))
        reportDisplayMessageCount()
        return SetDisplayMessageResponse(status: .accepted)
    }
}
