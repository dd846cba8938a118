import Locking
import Synchronization

/// The status notifications of firmware updates and uploads owed to the CSMS, in the order they
/// happened, for the adapter's delivery loop: it is woken by every new one (and by the adapter
/// when the CSMS can be reached again) and sends them oldest first. `Message` is the adapter's
/// own (its version's requests). In memory: what an update must still report after a restart
/// is in the update's state on disk.
public final class TransferStatusQueue<Message: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var message: Message
        /// Runs once the CSMS answered (the firmware service then forgets what it reported).
        public var onDelivered: (@Sendable () async -> Void)?
    }

    /// More would mean the CSMS has not been reachable for a very long time; the oldest go.
    public let capacity: Int
    private let entries = Mutex<[Entry]>([])
    public let kicks: AsyncStream<Void>
    private let kickContinuation: AsyncStream<Void>.Continuation

    public init(capacity: Int = 100) {
        self.capacity = capacity
        (kicks, kickContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func post(_ message: Message, onDelivered: (@Sendable () async -> Void)? = nil) {
        let capacity = capacity
        entries.locked { e in
            e.append(Entry(message: message, onDelivered: onDelivered))
            if e.count > capacity { e.removeFirst(e.count - capacity) }
        }
        kickContinuation.yield()
    }

    public var isEmpty: Bool { entries.locked { $0.isEmpty } }
    public func first() -> Entry? { entries.locked { $0.first } }
    public func removeFirst() { entries.locked { if !$0.isEmpty { $0.removeFirst() } } }
    /// Wakes the delivery loop (the CSMS can be reached again).
    public func wake() { kickContinuation.yield() }
    public func finish() { kickContinuation.finish() }
}

/// Where the file services' security events go (the station's security log), as the status
/// queues hold it: a closure kept bare in a `Mutex` gains two reabstraction thunks on every
/// `withLock` round trip (see Storage's `ClockStampSource`); inside a struct it does not.
public struct SecurityEventRecorder: Sendable {
    public let record: @Sendable (_ type: String, _ techInfo: String?) -> Void

    public init(_ record: @escaping @Sendable (_ type: String, _ techInfo: String?) -> Void) {
        self.record = record
    }
}
