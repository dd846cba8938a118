import Drivers
import HAL
import Locking
import Synchronization

/// Meter events from the pollers' thread to the loop. The only state the loop shares.
public final class MeterInbox: Sendable {
    private let pending = Mutex<[(Int, MeterPollerEvent)]>([])
    private let wake: LoopWakeUp?
    /// `wake`: signalled on every post, so a reading (or a meter gone silent) is taken in at once.
    public init(wake: LoopWakeUp? = nil) { self.wake = wake }
    public func post(connector: Int, _ event: MeterPollerEvent) {
        pending.locked { p in
            p.append((connector, event))
            // A stalled loop must not grow memory without bound: keep the newest.
            if p.count > 256 { p.removeFirst(p.count - 256) }
        }
        wake?.signal()
    }
    func drain() -> [(Int, MeterPollerEvent)] { pending.locked { p in defer { p.removeAll() }; return p } }
}
