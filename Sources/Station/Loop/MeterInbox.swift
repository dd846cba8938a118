import Drivers
import Synchronization

/// Meter events from the pollers' queues to the loop. The only state the loop shares.
public final class MeterInbox: Sendable {
    private let pending = Mutex<[(Int, MeterPollerEvent)]>([])
    public init() {}
    public func post(connector: Int, _ event: MeterPollerEvent) {
        pending.withLock { p in
            p.append((connector, event))
            // A stalled loop must not grow memory without bound: keep the newest.
            if p.count > 256 { p.removeFirst(p.count - 256) }
        }
    }
    func drain() -> [(Int, MeterPollerEvent)] { pending.withLock { p in defer { p.removeAll() }; return p } }
}
