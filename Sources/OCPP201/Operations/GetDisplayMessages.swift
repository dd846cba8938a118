import OCPP201Messages
import OCPPTransport

/// GetDisplayMessages (O04): Accepted when messages match the id list, priority and state
/// asked for (each optional), then NotifyDisplayMessages with them after the answer, paged
/// (`DisplayMessageService.messagesPerPage`, `tbc` on all but the last); Unknown when none does.
extension OCPP201ChargingStation {
    func getDisplayMessages(_ request: GetDisplayMessagesRequest) -> OCPPCallAnswer {
        purgeExpiredDisplayMessages()
        let stored: [MessageInfoType]
        do {
            stored = try displayMessages.all().map(DisplayMessageService.messageInfo)
        } catch {
            logger.error("GetDisplayMessages: cannot read the messages: \(error)")
            stored = []
        }
        let ids = request.id.flatMap { $0.isEmpty ? nil : Set($0) }
        let matching = stored.filter { m in
            (ids?.contains(m.id) ?? true)
                && (request.priority.map { $0 == m.priority } ?? true)
                && (request.state.map { $0 == m.state } ?? true)
        }
        guard !matching.isEmpty else {
            return OCPPCallAnswer(.success(GetDisplayMessagesResponse(status: .unknown).toJSON()))
        }
        let size = DisplayMessageService.messagesPerPage
        let pages = stride(from: 0, to: matching.count, by: size).map { from in
            let to = min(matching.count, from + size)
            return NotifyDisplayMessagesRequest(messageInfo: Array(matching[from..<to]), requestId: request.requestId,
                                                tbc: to < matching.count)
        }
        return OCPPCallAnswer(.success(GetDisplayMessagesResponse(status: .accepted).toJSON())) {
            await self.sendPages(pages)
        }
    }
}
