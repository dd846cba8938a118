import OCPP16Messages

/// SecurityEventNotification (charge point → CSMS): the queued security events, oldest first,
/// once registered; an event whose CALL failed for a lost connection is sent again.
extension OCPP16ChargePoint {
    public nonisolated func recordSecurityEvent(_ type: String, atUnixMs: UInt64, techInfo: String? = nil) {
        securityEvents.append(type, atUnixMs: atUnixMs, techInfo: techInfo)
    }

    nonisolated func kickSecurityEvents() {
        Task { await self.sendSecurityEvents() }
    }

    func sendSecurityEvents() async {
        while mayInitiate, let event = securityEvents.takeFirst() {
            let request = SecurityEventNotificationRequest(type: event.type, timestamp: OCPP16Timestamp.string(unixMs: event.unixMs),
                                                           techInfo: event.techInfo.map { String($0.prefix(255)) })
            do { _ = try await send(request) } catch {
                logger.info("SecurityEventNotification: \(error)")
                if case .connectionLost = error { securityEvents.putBack(event); return }
            }
        }
    }
}
