import OCPP16Messages
import OCPPTransport

/// SecurityEventNotification (charge point → CSMS). Every event goes into the station's
/// security log on disk, which is also the queue of the events owed to the CSMS: they are sent
/// oldest first once registered, and an event stays owed until the CSMS answered it, across a
/// lost connection, a restart or a power cut.
extension OCPP16ChargePoint {
    public nonisolated func recordSecurityEvent(_ type: String, atUnixMs: UInt64, techInfo: String? = nil) {
        do {
            try securityLog.append(kind: type, detail: techInfo.map { String($0.prefix(255)) },
                                   atMs: Int64(clamping: atUnixMs), notify: true)
        } catch {
            logger.error("security event \(type) not logged: \(error)")
        }
        kickSecurityEvents()
    }

    nonisolated func kickSecurityEvents() {
        Task { await self.sendSecurityEvents() }
    }

    func sendSecurityEvents() async {
        // One sender at a time: two would send the same owed event twice.
        guard !sendingSecurityEvents else { return }
        sendingSecurityEvents = true
        defer { sendingSecurityEvents = false }
        while mayInitiate, let event = (try? securityLog.owed(limit: 1))?.first {
            let request = SecurityEventNotificationRequest(
                type: String(event.kind.prefix(50)),
                timestamp: OCPP16Timestamp.string(unixMs: UInt64(clamping: event.occurredAtMs)),
                techInfo: event.detail)
            do {
                _ = try await send(request)
            } catch {
                logger.info("SecurityEventNotification \(event.kind): \(error)")
                switch error {
                case .connectionLost, .timeout, .shutDown, .cancelled:
                    return  // still owed: sent again after the next registration or event
                case .callError, .malformedResponse:
                    break  // the CSMS refuses it: sending it again would refuse it again
                }
            }
            do { try securityLog.markNotified(event.seq, atMs: Int64(clamping: unixMs())) } catch {
                logger.error("security event \(event.seq) delivered but not marked: \(error)")
                return
            }
        }
    }
}
