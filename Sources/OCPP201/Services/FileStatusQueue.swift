import FileTransfer
import FirmwareUpdate
import LogUpload
import OCPP201Messages
import Locking
import Synchronization

/// The FirmwareStatusNotifications and LogStatusNotifications owed to the CSMS, oldest first,
/// sent while the station is registered (the Installed after a firmware restart waits for the
/// new registration). Kept in memory: an update's own state is on disk, and after a restart it
/// reports again from there. The shared firmware and log services report through it.
final class FileStatusQueue: FirmwareStatusReporting, UploadStatusReporting {
    enum Message: Sendable {
        case firmware(FirmwareStatusNotificationRequest)
        case log(LogStatusNotificationRequest)
    }

    /// The owed notifications themselves (the queue both adapters use).
    private let queue = TransferStatusQueue<Message>()
    /// The station's security log (set once the station exists).
    private let recorder = Mutex<SecurityEventRecorder?>(nil)
    var kicks: AsyncStream<Void> { queue.kicks }

    func setSecurityEventRecorder(_ record: @escaping @Sendable (String, String?) -> Void) {
        recorder.locked { $0 = SecurityEventRecorder(record) }
    }

    private func post(_ message: Message, onDelivered: (@Sendable () async -> Void)? = nil) {
        queue.post(message, onDelivered: onDelivered)
    }

    // MARK: FirmwareStatusReporting

    func report(_ status: FirmwareUpdateStatus, of kind: FirmwareService.Kind, requestId: Int?,
                onDelivered: (@Sendable () async -> Void)?) -> Bool {
        guard let s = FirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: status.rawValue) else { return false }
        post(.firmware(FirmwareStatusNotificationRequest(status: s, requestId: requestId)), onDelivered: onDelivered)
        return true
    }

    func recordSecurityEvent(_ type: String, techInfo: String?) { recorder.locked { $0 }?.record(type, techInfo) }

    var hasStatusOwed: Bool { !queue.isEmpty }

    // MARK: UploadStatusReporting

    func report(_ status: UploadStatus, of upload: DiagnosticsService.Upload) {
        guard case let .log(_, requestId) = upload else { return }  // 2.0.1 has no GetDiagnostics
        let s = LogStatusNotificationRequest.UploadLogStatusEnumType(rawValue: status.logStatusName) ?? .uploadFailure
        post(.log(LogStatusNotificationRequest(status: s, requestId: requestId)))
    }

    func first() -> TransferStatusQueue<Message>.Entry? { queue.first() }
    func removeFirst() { queue.removeFirst() }
    func wake() { queue.wake() }
    func finish() { queue.finish() }
}

extension OCPP201ChargingStation {
    /// Sends the owed notifications whenever woken (a new status, a (re)registration).
    func deliverFileStatusesForever() async {
        guard let queue = fileStatuses else { return }
        woken: for await _ in queue.kicks {
            while mayInitiate, let entry = queue.first() {
                do {
                    switch entry.message {
                    case .firmware(let request): _ = try await send(request)
                    case .log(let request): _ = try await send(request)
                    }
                } catch {
                    logger.info("file status notification: \(error)")
                    switch error {
                    case .callError, .malformedResponse:
                        queue.removeFirst()  // refused: sending it again would be refused again
                        continue
                    default:
                        continue woken  // still owed: sent after the next registration
                    }
                }
                queue.removeFirst()
                await entry.onDelivered?()
            }
        }
    }
}
