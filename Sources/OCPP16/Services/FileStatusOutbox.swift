import FileTransfer
import FirmwareUpdate
import OCPP16Messages
import Locking
import Synchronization

/// The status notifications of firmware updates, diagnostics and log uploads, owed to the
/// CSMS in the order they happened. They wait while the charge point is offline or not yet
/// accepted (the Installed after a firmware restart waits for the new BootNotification's
/// Accepted); one that could not be sent for a lost connection is sent again.
public final class FileStatusOutbox: Sendable {
    public enum Message: Sendable, Hashable {
        case firmware(FirmwareStatusNotificationRequest)
        case signedFirmware(SignedFirmwareStatusNotificationRequest)
        case diagnostics(DiagnosticsStatusNotificationRequest)
        case log(LogStatusNotificationRequest)
    }

    typealias Entry = TransferStatusQueue<Message>.Entry

    /// The owed notifications themselves (the queue both adapters use).
    private let queue = TransferStatusQueue<Message>()
    let recorder = Mutex<SecurityEventRecorder?>(nil)
    var kicks: AsyncStream<Void> { queue.kicks }

    public init() {}

    public func post(_ message: Message, onDelivered: (@Sendable () async -> Void)? = nil) {
        queue.post(message, onDelivered: onDelivered)
    }

    public var isEmpty: Bool { queue.isEmpty }

    func first() -> Entry? { queue.first() }
    func removeFirst() { queue.removeFirst() }
    func kick() { queue.wake() }
    func finish() { queue.finish() }

    /// Security events of the services (InvalidFirmwareSignature, FirmwareUpdated, …) go to the
    /// charge point's security log through this.
    func setSecurityEventRecorder(_ record: @escaping @Sendable (String, String?) -> Void) {
        recorder.locked { $0 = SecurityEventRecorder(record) }
    }

}

/// The shared firmware update reports through the outbox: a signed update as
/// SignedFirmwareStatusNotification with its requestId, an unsigned one as the plain
/// FirmwareStatusNotification, skipping the steps that has no name for.
extension FileStatusOutbox: FirmwareStatusReporting {
    public func report(_ status: FirmwareUpdateStatus, of kind: FirmwareService.Kind, requestId: Int?,
                       onDelivered: (@Sendable () async -> Void)?) -> Bool {
        switch kind {
        case .signed:
            guard let signed = SignedFirmwareStatusNotificationRequest.FirmwareStatusEnumType(rawValue: status.rawValue) else { return false }
            post(.signedFirmware(SignedFirmwareStatusNotificationRequest(status: signed, requestId: requestId)), onDelivered: onDelivered)
        case .unsigned:
            guard let plain = FirmwareStatusNotificationRequest.FirmwareStatus(rawValue: status.rawValue) else { return false }
            post(.firmware(FirmwareStatusNotificationRequest(status: plain)), onDelivered: onDelivered)
        }
        return true
    }

    public func recordSecurityEvent(_ type: String, techInfo: String?) {
        recorder.locked { $0 }?.record(type, techInfo)
    }

    public var hasStatusOwed: Bool { !isEmpty }
}
