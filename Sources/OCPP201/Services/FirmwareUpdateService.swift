import FirmwareUpdate
import OCPP201Messages
import OCPPSecurity
import Synchronization

/// Functional block L (L01 secure firmware update) on the shared `FirmwareService`: the same
/// job on disk, download with retries, signature check against the installed manufacturer
/// roots, installation when no transaction runs, installer hand-off and restart as the 1.6
/// charge point's. Only signed images are taken. The statuses go out as 2.0.1
/// FirmwareStatusNotification with the update's requestId, in order, once the CSMS can be
/// reached (the Installed after the restart waits for the new registration).
enum FirmwareUpdateService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.register(UpdateFirmwareRequest.self) { station, request in await station.updateFirmware(request) }
    }
}

/// The FirmwareStatusNotifications owed to the CSMS, oldest first; the station's delivery loop
/// sends them while it is registered. Kept in memory: an update's own state is on disk, and
/// after a restart it reports again from there.
final class FirmwareStatusOutbox: FirmwareStatusReporting {
    struct Entry: Sendable {
        var request: FirmwareStatusNotificationRequest
        var onDelivered: (@Sendable () async -> Void)?
    }

    /// More would mean the CSMS has not been reachable for a very long time; the oldest go.
    static let capacity = 100
    private let entries = Mutex<[Entry]>([])
    /// The station's security log (set once the station exists).
    private let recorder = Mutex<(@Sendable (String, String?) -> Void)?>(nil)
    let kicks: AsyncStream<Void>
    private let kick: AsyncStream<Void>.Continuation

    init() {
        (kicks, kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func setSecurityEventRecorder(_ record: @escaping @Sendable (String, String?) -> Void) {
        recorder.withLock { $0 = record }
    }

    func report(_ status: FirmwareUpdateStatus, of kind: FirmwareService.Kind, requestId: Int?,
                onDelivered: (@Sendable () async -> Void)?) -> Bool {
        guard let s = FirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: status.rawValue) else { return false }
        entries.withLock { e in
            e.append(Entry(request: FirmwareStatusNotificationRequest(status: s, requestId: requestId), onDelivered: onDelivered))
            if e.count > Self.capacity { e.removeFirst(e.count - Self.capacity) }
        }
        kick.yield()
        return true
    }

    func recordSecurityEvent(_ type: String, techInfo: String?) { recorder.withLock { $0 }?(type, techInfo) }

    var hasStatusOwed: Bool { entries.withLock { !$0.isEmpty } }

    func first() -> Entry? { entries.withLock { $0.first } }
    func removeFirst() { entries.withLock { if !$0.isEmpty { $0.removeFirst() } } }
    func wake() { kick.yield() }
    func finish() { kick.finish() }
}

extension OCPP201ChargingStation {
    /// Sends the owed notifications whenever woken (a new status, a (re)registration).
    func deliverFirmwareStatusesForever() async {
        guard let outbox = firmwareStatuses else { return }
        woken: for await _ in outbox.kicks {
            while mayInitiate, let entry = outbox.first() {
                do {
                    _ = try await send(entry.request)
                } catch {
                    logger.info("FirmwareStatusNotification \(entry.request.status.rawValue): \(error)")
                    switch error {
                    case .callError, .malformedResponse:
                        outbox.removeFirst()  // refused: sending it again would be refused again
                        continue
                    default:
                        continue woken  // still owed: sent after the next registration
                    }
                }
                outbox.removeFirst()
                await entry.onDelivered?()
            }
        }
    }

    /// What TriggerMessage FirmwareStatusNotification reports: the running update's last
    /// status and requestId, Idle when none runs.
    func triggeredFirmwareStatus() async -> FirmwareStatusNotificationRequest {
        guard let now = await firmware?.triggeredStatus(), now.status != .idle,
              let status = FirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: now.status.rawValue) else {
            return FirmwareStatusNotificationRequest(status: .idle)
        }
        return FirmwareStatusNotificationRequest(status: status, requestId: now.requestId)
    }
}
