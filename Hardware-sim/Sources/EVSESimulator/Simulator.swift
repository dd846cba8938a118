import HAL
import Locking
import Synchronization

/// One state change as `/api/events` streams it.
public struct SimEvent: Sendable {
    public var seq: UInt64
    public var kind: String
    public var connector: Int?
    public var at: MonotonicInstant
    public var fields: [(String, JSONValue)]

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("seq", .int(Int64(seq))), ("t_us", .int(Int64(at.microseconds))), ("kind", .string(kind))]
        if let c = connector { pairs.append(("connector", .int(Int64(c)))) }
        return .object(pairs + fields)
    }

    /// One server-sent event.
    public var sse: String { "id: \(seq)\ndata: \(json.serialized)\n\n" }
}

/// The world with a real (or virtual) clock, shared by the HTTP, HAL and Modbus servers.
/// One lock serialises every change, so each change and what it publishes (events, edges)
/// happen in one order for everybody.
public final class Simulator: Sendable {
    public let clock: any EVSEClock
    public let config: SimulatorConfig
    private let core: Mutex<Core>

    struct HALSessionRecord {
        var opened: [String: PrimitiveKind] = [:]
        var push: @Sendable (String) -> Void
    }

    struct Core {
        var world: World
        var recent: [SimEvent] = []
        var nextSeq: UInt64 = 1
        var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
        var sessions: [Int: HALSessionRecord] = [:]
        var nextID = 1
    }

    /// How many past events a late subscriber can replay (`/api/events?since=SEQ`).
    static let historySize = 20_000

    public init(config: SimulatorConfig, clock: any EVSEClock = SystemMonotonicClock()) {
        self.clock = clock
        self.config = config
        self.core = Mutex(Core(world: World(config: config, start: clock.now())))
    }

    /// Runs `body` on the world brought up to now, then publishes what it caused.
    @discardableResult
    public func withWorld<T, E: Error>(_ body: (inout World) throws(E) -> T) throws(E) -> T {
        let now = clock.now()
        return try core.locked { (core: inout Core) throws(E) -> T in
            core.world.advance(to: now)
            defer { Simulator.publish(&core) }
            return try body(&core.world)
        }
    }

    /// Read-only look at the world (brought up to now).
    public func snapshot() -> World {
        withWorld { $0 }
    }

    /// Lets time pass: energy, SoC and the full-battery transition. Called by the ticker.
    public func tick() { withWorld { _ in } }

    private static func publish(_ core: inout Core) {
        for output in core.world.drainOutputs() {
            switch output {
            case let .event(kind, connector, at, fields):
                let ev = SimEvent(seq: core.nextSeq, kind: kind, connector: connector, at: at, fields: fields)
                core.nextSeq += 1
                core.recent.append(ev)
                if core.recent.count > historySize { core.recent.removeFirst(core.recent.count - historySize / 2) }
                let text = ev.sse
                for c in core.subscribers.values { c.yield(text) }
            case let .edge(line, edge, at):
                push(&core, name: line, "! edge \(line) \(edge.rawValue) \(at.microseconds)")
            case let .adc(channel, mv, at):
                push(&core, name: channel, "! adc \(channel) \(mv) \(at.microseconds)")
            case let .key(source, code, pressed, at):
                push(&core, name: source, "! key \(source) \(code) \(pressed ? 1 : 0) \(at.microseconds)")
            }
        }
    }

    private static func push(_ core: inout Core, name: String, _ line: String) {
        for s in core.sessions.values where s.opened[name] != nil { s.push(line) }
    }

    // MARK: Event stream

    /// Live server-sent-event chunks; with `since`, first the remembered events after it.
    public func subscribe(since: UInt64? = nil) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        let id = core.locked { core -> Int in
            let id = core.nextID
            core.nextID += 1
            if let since {
                for ev in core.recent where ev.seq > since { continuation.yield(ev.sse) }
            }
            core.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.core.locked { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends an SSE comment to every subscriber so idle connections stay open.
    public func keepSubscribersAlive() {
        core.locked { core in for c in core.subscribers.values { c.yield(": keep-alive\n\n") } }
    }

    /// Events remembered after `seq` (for tests and scenarios).
    public func events(after seq: UInt64 = 0) -> [SimEvent] {
        core.locked { $0.recent.filter { $0.seq > seq } }
    }

    public var lastEventSeq: UInt64 { core.locked { $0.nextSeq - 1 } }

    // MARK: HAL sessions

    /// A firmware connection opened; `push` delivers unsolicited `!` lines to it.
    public func openHALSession(push: @escaping @Sendable (String) -> Void) -> HALSession {
        let now = clock.now()
        let id = core.locked { core -> Int in
            let id = core.nextID
            core.nextID += 1
            core.sessions[id] = HALSessionRecord(push: push)
            core.world.advance(to: now)
            core.world.firmwareConnected(name: nil)
            Simulator.publish(&core)
            return id
        }
        return HALSession(simulator: self, id: id)
    }

    func closeHALSession(_ id: Int) {
        let now = clock.now()
        core.locked { core in
            guard core.sessions.removeValue(forKey: id) != nil else { return }
            core.world.advance(to: now)
            core.world.firmwareDisconnected()
            Simulator.publish(&core)
        }
    }

    /// Runs one request of session `id` under the lock: the world and the session's table of
    /// opened primitives change together.
    func withSession<T>(_ id: Int, _ body: (inout World, inout [String: PrimitiveKind]) -> T) -> T? {
        let now = clock.now()
        return core.locked { core -> T? in
            guard var record = core.sessions[id] else { return nil }
            core.world.advance(to: now)
            let result = body(&core.world, &record.opened)
            core.sessions[id] = record
            Simulator.publish(&core)
            return result
        }
    }
}
