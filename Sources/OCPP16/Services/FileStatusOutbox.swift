import FirmwareUpdate
import OCPP16Messages
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

    struct Entry: Sendable {
        var message: Message
        /// Runs once the CSMS answered (the firmware service then forgets what it reported).
        var onDelivered: (@Sendable () async -> Void)?
    }

    /// More would mean the CSMS has not been reachable for a very long time; the oldest go.
    static let capacity = 100

    private let entries = Mutex<[Entry]>([])
    let recorder = Mutex<(@Sendable (String, String?) -> Void)?>(nil)
    let kicks: AsyncStream<Void>
    private let kickContinuation: AsyncStream<Void>.Continuation

    public init() {
        (kicks, kickContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func post(_ message: Message, onDelivered: (@Sendable () async -> Void)? = nil) {
        entries.withLock { e in
            e.append(Entry(message: message, onDelivered: onDelivered))
            if e.count > Self.capacity { e.removeFirst(e.count - Self.capacity) }
        }
        kickContinuation.yield()
    }

    public var isEmpty: Bool { entries.withLock { $0.isEmpty } }

    func first() -> Entry? { entries.withLock { $0.first } }
    func removeFirst() { entries.withLock { if !$0.isEmpty { $0.removeFirst() } } }
    func kick() { kickContinuation.yield() }
    func finish() { kickContinuation.finish() }

    /// Security events of the services (InvalidFirmwareSignature, FirmwareUpdated, …) go to the
    /// charge point's security log through this.
    func setSecurityEventRecorder(_ record: @escaping @Sendable (String, String?) -> Void) {
        recorder.withLock { $0 = record }
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
        recorder.withLock { $0 }?(type, techInfo)
    }

    public var hasStatusOwed: Bool { !isEmpty }
}
