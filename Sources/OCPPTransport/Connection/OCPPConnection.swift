import HAL
import Logging
import NIOCore
import Locking
import Synchronization

/// What an `OCPPConnection` reports, in order.
public enum OCPPConnectionEvent: Sendable, Hashable {
    case connected(subprotocol: String)
    case disconnected(OCPPDisconnectReason)
    case message(String)
    /// The next attempt comes after this wait (attempt counts failures since the last success).
    case reconnectScheduled(after: EVSEDuration, attempt: Int)
}

/// A session with the CSMS that survives failures: it connects, reports, and on any failure
/// or drop reconnects after an exponential backoff with jitter, forever, until `stop()`.
/// Outbound CALLs waiting in the RPC layer stay queued across reconnects.
public final class OCPPConnection: Sendable {
    private let timerLoop: any EventLoop
    private let logger: Logger
    private let state: Mutex<State>

    private struct State: Sendable {
        var connector: any OCPPConnector
        var backoff: ReconnectBackoff
        var random: @Sendable () -> Double
        var session: (any OCPPTransportSession)?
        var waiting: Scheduled<Void>?
        var task: Task<Void, Never>?
        var stopped = false
    }

    /// `timerLoop` runs the backoff waits (an `NIOAsyncTestingEventLoop` in tests);
    /// `random` yields 0...1 for the jitter.
    public init(connector: any OCPPConnector, backoff: ReconnectBackoff, timerLoop: any EventLoop,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                logger: Logger = Logger(label: "ocpp.connection")) {
        self.timerLoop = timerLoop
        self.logger = logger
        state = Mutex(State(connector: connector, backoff: backoff, random: random))
    }

    /// A new connector (URL, credentials, profile) for the next connection; `reconnectNow`
    /// drops the current one to use it at once.
    public func replaceConnector(_ connector: any OCPPConnector, reconnectNow: Bool) {
        let session = state.locked { s -> (any OCPPTransportSession)? in
            s.connector = connector
            return reconnectNow ? s.session : nil
        }
        session?.close()
    }

    public func setBackoff(_ backoff: ReconnectBackoff) {
        state.locked { $0.backoff = backoff }
    }

    /// Sends one text message on the live connection; false when offline (nothing queued here:
    /// the RPC layer keeps CALLs until the transport is up).
    @discardableResult
    public func send(_ text: String) -> Bool {
        guard let session = state.locked({ $0.session }) else { return false }
        session.send(text)
        return true
    }

    public var isConnected: Bool { state.locked { $0.session != nil } }

    /// Starts connecting; events arrive on `onEvent` in order.
    public func start(onEvent: @escaping @Sendable (OCPPConnectionEvent) -> Void) {
        state.locked { s in
            guard s.task == nil, !s.stopped else { return }
            s.task = Task { [self] in await run(onEvent: onEvent) }
        }
    }

    /// Starts connecting with `rpc` on top: connected/disconnected drive its transport state,
    /// messages go to it. `observer` sees every event too; `frameLog` gets every frame.
    public func start(rpc: OCPPRPC, frameLog: OCPPFrameLog? = nil,
                      observer: (@Sendable (OCPPConnectionEvent) -> Void)? = nil) {
        start { [self] event in
            switch event {
            case .connected:
                rpc.transportUp { [self] text in
                    frameLog?.record(.outbound, text)
                    send(text)
                }
            case .disconnected: rpc.transportDown()
            case .message(let text):
                frameLog?.record(.inbound, text)
                rpc.receive(text)
            case .reconnectScheduled: break
            }
            observer?(event)
        }
    }

    /// Closes the connection and stops reconnecting; returns when the loop has ended.
    public func stop() async {
        let (session, waiting, task) = state.locked { s in
            s.stopped = true
            return (s.session, s.waiting, s.task)
        }
        waiting?.cancel()
        session?.close()
        await task?.value
    }

    private func run(onEvent: @escaping @Sendable (OCPPConnectionEvent) -> Void) async {
        var failures = 0
        while !state.locked({ $0.stopped }) {
            let connector = state.locked { $0.connector }
            do {
                // The CSMS may speak the moment the WebSocket is open, before `connect` has
                // returned here: what it says waits for `.connected`, so the RPC layer never gets
                // a CALL for a connection it does not know yet (its answer would be dropped).
                let inbound = InboundGate(logger: logger)
                let session = try await connector.connect { text in inbound.deliver(text) { onEvent(.message($0)) } }
                let stoppedMeanwhile = state.locked { s -> Bool in
                    if !s.stopped { s.session = session }
                    return s.stopped
                }
                if stoppedMeanwhile {
                    session.close()
                    _ = await session.closeReason()
                    return
                }
                failures = 0
                onEvent(.connected(subprotocol: session.subprotocol))
                inbound.open { onEvent(.message($0)) }
                let reason = await session.closeReason()
                state.locked { $0.session = nil }
                logger.notice("disconnected", metadata: ["reason": "\(reason)"])
                onEvent(.disconnected(reason))
            } catch {
                logger.warning("connect failed", metadata: ["error": "\(error)"])
                onEvent(.disconnected(.connectFailed(error)))
            }
            failures += 1
            guard await wait(afterFailures: failures, onEvent: onEvent) else { return }
        }
    }

    /// False when stopped during the wait.
    private func wait(afterFailures failures: Int, onEvent: @Sendable (OCPPConnectionEvent) -> Void) async -> Bool {
        let promise = timerLoop.makePromise(of: Void.self)
        let delay: EVSEDuration? = state.locked { s in
            guard !s.stopped else { return nil }
            let delay = s.backoff.delay(afterFailures: failures, jitter: s.random())
            let scheduled = timerLoop.scheduleTask(in: .microseconds(delay.microseconds)) {}
            scheduled.futureResult.cascade(to: promise)
            s.waiting = scheduled
            return delay
        }
        guard let delay else {
            promise.succeed()
            return false
        }
        onEvent(.reconnectScheduled(after: delay, attempt: failures))
        _ = try? await promise.futureResult.get()
        return state.locked { s in
            s.waiting = nil
            return !s.stopped
        }
    }
}

/// Holds the messages that arrive between the WebSocket opening and `.connected` being reported,
/// then lets them through in order. Once open, messages pass straight through on the thread that
/// read them (one channel's event loop, so their order holds).
final class InboundGate: Sendable {
    /// More than a CSMS sends in the instant before `.connected`; a peer that floods faster
    /// loses the rest, as it would if the socket had not been read yet.
    static let limit = 256
    private let state = Mutex<(isOpen: Bool, held: [String])>((false, []))
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func deliver(_ text: String, to forward: (String) -> Void) {
        let passThrough = state.locked { s -> Bool in
            if s.isOpen { return true }
            if s.held.count < Self.limit { s.held.append(text) } else {
                logger.warning("message dropped: too many before the connection was reported up")
            }
            return false
        }
        if passThrough { forward(text) }
    }

    /// Forwards what was held, then opens. Messages that arrive while the held ones are being
    /// forwarded are held too and forwarded in the same loop, so none overtakes an older one.
    func open(forwarding forward: (String) -> Void) {
        while true {
            let batch = state.locked { s -> [String] in
                if s.held.isEmpty { s.isOpen = true }
                defer { s.held.removeAll() }
                return s.held
            }
            if batch.isEmpty { return }
            batch.forEach(forward)
        }
    }
}
