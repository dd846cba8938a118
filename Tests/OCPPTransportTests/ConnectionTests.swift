import HAL
import Logging
import NIOCore
import NIOEmbedded
import OCPPJSON
import Locking
import Synchronization
import Testing
@testable import OCPPTransport

/// A connector whose outcomes the test scripts: fail N times, then hand out fake sessions.
final class ScriptedConnector: OCPPConnector {
    final class FakeSession: OCPPTransportSession {
        let subprotocol = "ocpp1.6"
        let sent = SentFrames()
        let onText: @Sendable (String) -> Void
        private let end = AsyncStream<OCPPDisconnectReason>.makeStream()
        init(onText: @escaping @Sendable (String) -> Void) { self.onText = onText }
        func send(_ text: String) { sent.append(text) }
        func close() { drop(.closedLocally) }
        func drop(_ reason: OCPPDisconnectReason) { end.continuation.yield(reason); end.continuation.finish() }
        func closeReason() async -> OCPPDisconnectReason {
            for await reason in end.stream { return reason }
            return .closedLocally
        }
    }

    private let state = Mutex<(failuresLeft: Int, attempts: Int, sessions: [FakeSession])>((0, 0, []))
    /// What the CSMS says the moment the socket opens, before `connect` returns: on a real
    /// WebSocket the read side runs on its own thread and can be that quick.
    private let greeting: [String]

    init(failFirst: Int, greeting: [String] = []) {
        self.greeting = greeting
        state.locked { $0.failuresLeft = failFirst }
    }

    var attempts: Int { state.locked { $0.attempts } }
    var sessions: [FakeSession] { state.locked { $0.sessions } }

    func failNext(_ count: Int) { state.locked { $0.failuresLeft = count } }

    func connect(onText: @escaping @Sendable (String) -> Void) async throws(OCPPTransportError) -> any OCPPTransportSession {
        let session: FakeSession? = state.locked { s in
            s.attempts += 1
            if s.failuresLeft > 0 {
                s.failuresLeft -= 1
                return nil
            }
            let session = FakeSession(onText: onText)
            s.sessions.append(session)
            return session
        }
        guard let session else { throw .connectFailed("scripted failure") }
        greeting.forEach(onText)
        return session
    }
}

final class EventLog: Sendable {
    let events = Mutex<[OCPPConnectionEvent]>([])
    var all: [OCPPConnectionEvent] { events.locked { $0 } }
    func append(_ event: OCPPConnectionEvent) { events.locked { $0.append(event) } }
    var scheduledDelays: [EVSEDuration] {
        all.compactMap { if case .reconnectScheduled(let d, _) = $0 { return d } else { return nil } }
    }
}

@Suite("OCPP connection and backoff")
struct ConnectionTests {
    @Test("backoff doubles from the minimum, caps, and adds the jitter")
    func backoffSchedule() {
        let backoff = ReconnectBackoff(minimum: .seconds(Int64(3)), maximum: .seconds(Int64(60)), doublings: 4,
                                       randomRange: .seconds(Int64(2)))
        let plain = (1...7).map { backoff.delay(afterFailures: $0, jitter: 0).microseconds / 1_000_000 }
        #expect(plain == [3, 6, 12, 24, 48, 48, 48])
        #expect(backoff.delay(afterFailures: 1, jitter: 1) == .seconds(Int64(5)))
        #expect(backoff.delay(afterFailures: 1, jitter: 0.5) == .seconds(Int64(4)))
        #expect(backoff.delay(afterFailures: 1, jitter: .nan) == .seconds(Int64(3)))
        let capped = ReconnectBackoff(minimum: .seconds(Int64(10)), maximum: .seconds(Int64(30)), doublings: 10,
                                      randomRange: .zero)
        #expect(capped.delay(afterFailures: 100_000, jitter: 0) == .seconds(Int64(30)))
    }

    @Test("failed attempts are retried on the backoff schedule, in virtual time, until one succeeds")
    func reconnectsOnSchedule() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let connector = ScriptedConnector(failFirst: 4)
        let backoff = ReconnectBackoff(minimum: .seconds(Int64(1)), maximum: .seconds(Int64(4)), doublings: 5,
                                       randomRange: .zero)
        let connection = OCPPConnection(connector: connector, backoff: backoff, timerLoop: loop, random: { 0 })
        let log = EventLog()
        connection.start { log.append($0) }
        for (attempt, seconds) in [(1, 1), (2, 2), (3, 4), (4, 4)] {
            try await eventually("wait \(attempt) scheduled") { log.scheduledDelays.count == attempt }
            #expect(log.scheduledDelays.last == .seconds(Int64(seconds)))
            #expect(connector.attempts == attempt)
            await loop.advanceTime(by: .seconds(Int64(seconds)) - .nanoseconds(1))
            #expect(connector.attempts == attempt)
            await loop.advanceTime(by: .nanoseconds(1))
            try await eventually("attempt \(attempt + 1)") { connector.attempts == attempt + 1 }
        }
        try await eventually("connected") { log.all.last == .connected(subprotocol: "ocpp1.6") }
        #expect(connection.isConnected)
        // A drop after a success starts the schedule again from the minimum.
        connector.sessions.first?.drop(.pongTimeout)
        try await eventually("wait after the drop") { log.scheduledDelays.count == 5 }
        #expect(log.all.suffix(2) == [.disconnected(.pongTimeout), .reconnectScheduled(after: .seconds(Int64(1)), attempt: 1)])
        await connection.stop()
        #expect(!connection.isConnected)
    }

    @Test("RPC on a reconnecting connection: CALLs queued offline go out after connecting")
    func rpcOverReconnects() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let connector = ScriptedConnector(failFirst: 1)
        let connection = OCPPConnection(connector: connector, backoff: ReconnectBackoff(minimum: .seconds(Int64(5)),
                                        randomRange: .zero), timerLoop: loop, random: { 0 })
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, messageIDs: .sequential(prefix: "c"), handler: testHandler)
        let log = EventLog()
        connection.start(rpc: rpc) { log.append($0) }
        let boot = Task { try await rpc.call("BootNotification", payload: ["chargePointModel": "X"]) }
        try await eventually("first attempt failed") { log.scheduledDelays.count == 1 }
        try await eventually("BootNotification queued while offline") { rpc.queuedCallCount == 1 }
        await loop.advanceTime(by: .seconds(5))
        try await eventually("connected") { connector.sessions.count == 1 }
        let session = try #require(connector.sessions.first)
        try await eventually("BootNotification sent") { session.sent.count == 1 }
        #expect(session.sent.all[0] == #"[2,"c1","BootNotification",{"chargePointModel":"X"}]"#)
        session.onText(#"[3,"c1",{"status":"Accepted"}]"#)
        #expect(try await boot.value["status"] == "Accepted")
        // Inbound CALLs are answered on the same session.
        session.onText(#"[2,"s1","Heartbeat",{}]"#)
        try await eventually("answer sent") { session.sent.count == 2 }
        #expect(session.sent.all[1].hasPrefix(#"[3,"s1","#))
        await connection.stop()
    }

    @Test("what the CSMS says before the connection is reported up waits for it, in order, and is answered on that connection")
    func messagesBeforeConnectedWaitForIt() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let greeting = [#"[3,"never-sent",{}]"#, #"[2,"s1","Heartbeat",{}]"#, #"[2,"s2","Heartbeat",{}]"#]
        let connector = ScriptedConnector(failFirst: 0, greeting: greeting)
        let connection = OCPPConnection(connector: connector, backoff: ReconnectBackoff(minimum: .seconds(Int64(5)),
                                        randomRange: .zero), timerLoop: loop, random: { 0 })
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, messageIDs: .sequential(prefix: "c"), handler: testHandler)
        let log = EventLog()
        connection.start(rpc: rpc) { log.append($0) }
        try await eventually("connected and the greeting delivered") { log.all.count == 4 }
        #expect(log.all == [.connected(subprotocol: "ocpp1.6")] + greeting.map { .message($0) })
        let session = try #require(connector.sessions.first)
        // Before the gate, the RPC layer saw these CALLs under the previous connection and
        // dropped its answers ("the connection it belongs to is gone").
        try await eventually("both CALLs answered") { session.sent.count == 2 }
        #expect(Set(session.sent.all.map { String($0.prefix(8)) }) == [#"[3,"s1","#, #"[3,"s2","#])
        await connection.stop()
    }

    @Test("a flood before the connection is reported up is bounded")
    func inboundGateIsBounded() {
        let gate = InboundGate(logger: Logger(label: "test"))
        let forwarded = Mutex<[String]>([])
        for i in 0..<(InboundGate.limit + 10) { gate.deliver("\(i)") { text in forwarded.locked { $0.append(text) } } }
        #expect(forwarded.locked { $0.isEmpty })
        gate.open { text in forwarded.locked { $0.append(text) } }
        gate.deliver("after") { text in forwarded.locked { $0.append(text) } }
        #expect(forwarded.locked { $0 } == (0..<InboundGate.limit).map { "\($0)" } + ["after"])
    }

    @Test("a replaced connector (new URL, credentials or profile) is used for the next connection")
    func replaceConnector() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let old = ScriptedConnector(failFirst: 0)
        let new = ScriptedConnector(failFirst: 0)
        let connection = OCPPConnection(connector: old, backoff: ReconnectBackoff(minimum: .seconds(Int64(2)),
                                        randomRange: .zero), timerLoop: loop, random: { 0 }, logger: quietLogger)
        let log = EventLog()
        connection.start { log.append($0) }
        try await eventually("connected with the old connector") { connection.isConnected && old.attempts == 1 }
        connection.replaceConnector(new, reconnectNow: true)
        try await eventually("old session closed, wait scheduled") { log.scheduledDelays.count == 1 }
        #expect(log.all.contains(.disconnected(.closedLocally)))
        #expect(new.attempts == 0)
        await loop.advanceTime(by: .seconds(2))
        try await eventually("connected with the new connector") { new.attempts == 1 && connection.isConnected }
        #expect(old.attempts == 1)
        await connection.stop()
    }
}
