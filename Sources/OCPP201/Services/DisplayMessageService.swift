import ChargingCore
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage

/// Display messages (block O): the CSMS's messages for the driver. They are kept in SQLite
/// (`DisplayMessageStore`, at most `DisplayMessageCapacity.messages`) and handed to the
/// station's one message scheduler through the port (`.showMessage`, `.removeMessage`), which
/// shows them by priority, state, window and transaction.
///
/// - At start the stored messages go to the station again; those whose window has ended or
///   whose transaction no longer runs are dropped first.
/// - A message leaves the glass the second its endDateTime passes (the scheduler checks the
///   window at every frame); its row is removed at the next SetDisplayMessage,
///   GetDisplayMessages or ClearDisplayMessage.
/// - A message bound to a transaction is removed when that transaction ends.
enum DisplayMessageService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.registerAnswering(SetDisplayMessageRequest.self, precheck: SetDisplayMessageOperation.unsupportedValue) {
            station, request in OCPPCallAnswer(.success(station.setDisplayMessage(request).toJSON()))
        }
        registry.registerAnswering(GetDisplayMessagesRequest.self) { station, request in station.getDisplayMessages(request) }
        registry.register(ClearDisplayMessageRequest.self) { station, request in station.clearDisplayMessage(request) }
    }

    /// Messages per NotifyDisplayMessages: a report of all 50 goes out in 5 pages.
    static let messagesPerPage = 10

    /// The 2.0.1 message as the core's scheduler takes it. Times are rounded outwards to the
    /// second; Charging covers a suspended transaction too (it is still in progress).
    static func coreMessage(_ m: StoredDisplayMessage) -> DisplayMessage {
        let priority: DisplayMessagePriority = switch m.priority {
        case MessagePriorityEnumType.alwaysFront.rawValue: .alwaysFront
        case MessagePriorityEnumType.inFront.rawValue: .inFront
        default: .normalCycle
        }
        let states: Set<DisplayMessageStateFilter> = switch m.state.flatMap(MessageStateEnumType.init(rawValue:)) {
        case .charging?: [.charging, .suspended]
        case .faulted?: [.faulted]
        case .idle?: [.idle]
        case .unavailable?: [.unavailable]
        case nil: []
        }
        return DisplayMessage(id: m.id, priority: priority, text: m.content,
                              startsAt: m.startsAtMs.map { $0 / 1_000 }, endsAt: m.endsAtMs.map { ($0 + 999) / 1_000 },
                              states: states, transactionId: m.transactionId, language: m.language)
    }

    /// The stored message as the CSMS gave it (GetDisplayMessages).
    static func messageInfo(_ m: StoredDisplayMessage) -> MessageInfoType {
        MessageInfoType(id: m.id, priority: MessagePriorityEnumType(rawValue: m.priority) ?? .normalCycle,
                        state: m.state.flatMap(MessageStateEnumType.init(rawValue:)),
                        startDateTime: m.startsAtMs.map { OCPPTimestamp.string(unixMs: UInt64(max(0, $0))) },
                        endDateTime: m.endsAtMs.map { OCPPTimestamp.string(unixMs: UInt64(max(0, $0))) },
                        transactionId: m.transactionId,
                        message: MessageContentType(format: MessageFormatEnumType(rawValue: m.format) ?? .utf8,
                                                    language: m.language, content: m.content))
    }
}

extension OCPP201ChargingStation {
    /// At start: the stored messages that still apply go to the station's display.
    func restoreDisplayMessages() {
        purgeExpiredDisplayMessages()
        do {
            for message in try displayMessages.all() {
                if let tx = message.transactionId, !transactions.status(ofTransaction: tx).ongoing {
                    _ = try displayMessages.remove(id: message.id)
                    continue
                }
                station.submit(.showMessage(DisplayMessageService.coreMessage(message)))
            }
        } catch {
            logger.error("display messages: cannot read the stored ones: \(error)")
        }
        reportDisplayMessageCount()
    }

    /// Messages whose window has ended leave storage and the station.
    func purgeExpiredDisplayMessages() {
        do {
            for id in try displayMessages.removeExpired(nowMs: Int64(clamping: unixMs())) {
                station.submit(.removeMessage(id: id))
            }
        } catch {
            logger.error("display messages: cannot remove the expired ones: \(error)")
        }
    }

    /// A transaction ended: the messages bound to it go.
    func displayMessagesOfTransactionEnded(_ transactionId: String) {
        do {
            let gone = try displayMessages.removeBound(toTransaction: transactionId)
            for id in gone { station.submit(.removeMessage(id: id)) }
            if !gone.isEmpty { reportDisplayMessageCount() }
        } catch {
            logger.error("display messages of transaction \(transactionId): \(error)")
        }
    }

    /// DisplayMessageCtrlr.DisplayMessages: how many are held now.
    func reportDisplayMessageCount() {
        guard let model = deviceModel, let count = try? displayMessages.count() else { return }
        _ = model.setActual(.displayMessageCount, String(count))
    }
}
