import OCPP201Messages
import OCPPJSON
import Storage

/// Security events (A04): kept in the station's security log, which is also the queue of the
/// events owed to the CSMS, and sent as SecurityEventNotification, oldest first, once the
/// station is registered. An event the CSMS refuses is not sent again; one that did not reach it
/// is, after the next registration or event.
enum SecurityEventService {
    /// The 2.0.1 names of the events this station raises (Part 2, appendix: security events).
    static let startupOfTheDevice = "StartupOfTheDevice"
    static let resetOrReboot = "ResetOrReboot"
    static let invalidCsmsCertificate = "InvalidCsmsCertificate"
    static let failedToAuthenticateAtCsms = "FailedToAuthenticateAtCsms"
    static let reconfigurationOfSecurityParameters = "ReconfigurationOfSecurityParameters"
}

extension OCPP201ChargingStation {
    /// Logs a security event and sends it when it can (any thread).
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
            do {
                _ = try await send(SecurityEventNotificationOperation.request(event))
            } catch {
                logger.info("SecurityEventNotification \(event.kind): \(error)")
                switch error {
                case .connectionLost, .timeout, .shutDown, .cancelled: return  // still owed
                case .callError, .malformedResponse: break  // refused: sending it again would be refused again
                }
            }
            do { try securityLog.markNotified(event.seq, atMs: Int64(clamping: unixMs())) } catch {
                logger.error("security event \(event.seq) delivered but not marked: \(error)")
                return
            }
        }
    }
}
