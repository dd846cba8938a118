import HAL
import Locking
import Synchronization

/// The WebSocket ping interval as the backend may change it while connected (OCPP 1.6
/// WebSocketPingInterval): the live connection reschedules its next ping at once, so a change
/// never waits for the old interval to run out or for a reconnect.
public final class PingIntervalSetting: Sendable {
    private struct State {
        var seconds: Int
        var observers: [UInt64: @Sendable () -> Void] = [:]
        var nextToken: UInt64 = 0
    }
    private let state: Mutex<State>

    /// 0: no pings.
    public init(seconds: Int) { state = Mutex(State(seconds: max(0, seconds))) }

    public var interval: EVSEDuration? {
        let s = state.locked { $0.seconds }
        return s > 0 ? .seconds(Int64(s)) : nil
    }

    public func set(seconds: Int) {
        let observers = state.locked { s -> [@Sendable () -> Void] in
            s.seconds = max(0, seconds)
            return Array(s.observers.values)
        }
        for changed in observers { changed() }
    }

    func observe(_ changed: @escaping @Sendable () -> Void) -> UInt64 {
        state.locked { s in
            s.nextToken &+= 1
            s.observers[s.nextToken] = changed
            return s.nextToken
        }
    }

    func stopObserving(_ token: UInt64) { state.locked { _ = $0.observers.removeValue(forKey: token) } }
}
