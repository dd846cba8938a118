import HAL
import NIOCore
import NIOEmbedded
import OCPPJSON
import Testing
@testable import OCPPTransport

@Suite("OCPP RPC")
struct RPCTests {
    func makeRPC(_ dialect: OCPPRPCDialect = .ocpp16, loop: NIOAsyncTestingEventLoop,
                 timeout: EVSEDuration = .seconds(Int64(30))) -> OCPPRPC {
        OCPPRPC(dialect: dialect, timerLoop: loop, callTimeout: timeout,
                messageIDs: .sequential(prefix: "m"), logger: quietLogger, handler: testHandler)
    }

    @Test("a CALL is framed as [2, id, action, payload] and its CALLRESULT payload returned")
    func callRoundTrip() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let call = Task { try await rpc.call("Heartbeat", payload: [:]) }
        try await eventually("CALL sent") { sent.count == 1 }
        #expect(sent.all[0] == #"[2,"m1","Heartbeat",{}]"#)
        rpc.receive(#"[3,"m1",{"currentTime":"2026-01-01T00:00:00Z"}]"#)
        let answer = try await call.value
        #expect(answer["currentTime"]?.stringValue == "2026-01-01T00:00:00Z")
        #expect(!rpc.hasOutstandingCall)
    }

    @Test("only one CALL is outstanding; the next waits for the answer, in order")
    func oneOutstandingCall() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let first = Task { try await rpc.call("A", payload: [:]) }
        try await eventually("first CALL sent") { sent.count == 1 }
        let second = Task { try await rpc.call("B", payload: ["n": 2]) }
        try await eventually("second CALL queued") { rpc.queuedCallCount == 1 }
        #expect(sent.count == 1)
        rpc.receive(#"[3,"m1",{}]"#)
        _ = try await first.value
        try await eventually("second CALL sent") { sent.count == 2 }
        guard case .call(let id, let action, _)? = sent.frame(1) else {
            Issue.record("second frame is not a CALL: \(sent.all)")
            return
        }
        #expect(action == "B")
        rpc.receive(#"[3,"\#(id)",{"ok":true}]"#)
        #expect(try await second.value["ok"] == .bool(true))
    }

    @Test("no answer within the call timeout: the caller gets .timeout and the next CALL goes out")
    func callTimeout() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop, timeout: .seconds(Int64(10)))
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let first = Task { () -> OCPPRPCError? in
            await callError(rpc, "Slow")
        }
        try await eventually("first CALL sent") { sent.count == 1 }
        let second = Task { try await rpc.call("Next", payload: [:]) }
        try await eventually("second CALL queued") { rpc.queuedCallCount == 1 }
        await loop.advanceTime(by: .seconds(9))
        #expect(sent.count == 1)
        await loop.advanceTime(by: .seconds(1))
        #expect(await first.value == .timeout(action: "Slow"))
        try await eventually("second CALL sent after the timeout") { sent.count == 2 }
        // A late answer to the timed-out CALL is ignored; the second still waits for its own.
        rpc.receive(#"[3,"m1",{}]"#)
        #expect(rpc.hasOutstandingCall)
        rpc.receive(#"[3,"m2",{"late":false}]"#)
        #expect(try await second.value["late"] == .bool(false))
    }

    @Test("a CALLERROR answer reaches the caller with the code read through the dialect")
    func callErrorAnswer() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let call = Task { () -> OCPPRPCError? in
            await callError(rpc, "Authorize")
        }
        try await eventually("CALL sent") { sent.count == 1 }
        rpc.receive(#"[4,"m1","OccurenceConstraintViolation","idTag missing",{}]"#)
        let error = await call.value
        guard case .callError(let code, let spelled, let text, _)? = error else {
            Issue.record("expected a CALLERROR, got \(String(describing: error))")
            return
        }
        #expect(code == .occurrenceConstraintViolation)
        #expect(spelled == "OccurenceConstraintViolation")
        #expect(text == "idTag missing")
    }

    @Test("an answer with an unknown message id is ignored; the outstanding CALL keeps waiting")
    func mismatchedAnswerIgnored() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let call = Task { try await rpc.call("Heartbeat", payload: [:]) }
        try await eventually("CALL sent") { sent.count == 1 }
        rpc.receive(#"[3,"other",{}]"#)
        rpc.receive(#"[4,"other","GenericError","",{}]"#)
        #expect(rpc.hasOutstandingCall)
        #expect(sent.count == 1)  // answers are never answered
        rpc.receive(#"[3,"m1",{"x":1}]"#)
        #expect(try await call.value["x"] == .integer(1))
    }

    @Test("CALLs made offline wait; a dropped connection fails only the outstanding one")
    func queueSurvivesTransportDrops() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let first = Task { () -> OCPPRPCError? in
            await callError(rpc, "BootNotification")
        }
        try await eventually("first CALL queued") { rpc.queuedCallCount == 1 }
        let second = Task { try await rpc.call("StatusNotification", payload: [:]) }
        try await eventually("second CALL queued") { rpc.queuedCallCount == 2 }
        // Offline time does not count against the call timeout.
        await loop.advanceTime(by: .seconds(600))
        let firstLink = SentFrames()
        rpc.transportUp(send: firstLink.send)
        #expect(firstLink.count == 1)
        rpc.transportDown()
        #expect(await first.value == .connectionLost(action: "BootNotification"))
        #expect(rpc.queuedCallCount == 1)
        let secondLink = SentFrames()
        rpc.transportUp(send: secondLink.send)
        guard case .call(let id, "StatusNotification", _)? = secondLink.frame(0) else {
            Issue.record("queued CALL not sent after reconnect: \(secondLink.all)")
            return
        }
        rpc.receive(#"[3,"\#(id)",{}]"#)
        _ = try await second.value
    }

    @Test("a cancelled caller frees its place")
    func cancellation() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let first = Task { () -> OCPPRPCError? in
            await callError(rpc, "A")
        }
        try await eventually("CALL sent") { sent.count == 1 }
        first.cancel()
        #expect(await first.value == .cancelled)
        #expect(!rpc.hasOutstandingCall)
    }

    @Test("inbound CALLs: result, handler errors, unknown actions, non-object answers")
    func inboundCalls() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        await rpc.receive(#"[2,"a","Heartbeat",{}]"#)?.value
        await rpc.receive(#"[2,"b","Reject",{}]"#)?.value
        await rpc.receive(#"[2,"c","FlyToMoon",{}]"#)?.value
        await rpc.receive(#"[2,"d","Weird",{}]"#)?.value
        #expect(sent.all == [
            #"[3,"a",{"currentTime":"2026-01-01T00:00:00Z"}]"#,
            #"[4,"b","OccurenceConstraintViolation","idTag missing",{}]"#,
            #"[4,"c","NotImplemented","unknown action FlyToMoon",{}]"#,
            #"[4,"d","InternalError","answer to Weird is number, not an object",{}]"#,
        ])
    }

    @Test("malformed frames with a readable id get the version's error",
          arguments: [
            (OCPPRPCDialect.ocpp16, #"[2,"x","Foo"]"#, "ProtocolError"),
            (OCPPRPCDialect.ocpp16, #"[2,"x",7,{}]"#, "ProtocolError"),
            (OCPPRPCDialect.ocpp16, #"[2,"x","Foo",[1]]"#, "FormationViolation"),
            (OCPPRPCDialect.ocpp16, #"[9,"x","Foo",{}]"#, "ProtocolError"),
            (OCPPRPCDialect.ocpp16, #"["2","x","Foo",{}]"#, "ProtocolError"),
            (OCPPRPCDialect.ocpp16, #"[2,"0123456789012345678901234567890123456","A",{}]"#, "ProtocolError"),
            (OCPPRPCDialect.ocpp201, #"[2,"x","Foo"]"#, "RpcFrameworkError"),
            (OCPPRPCDialect.ocpp201, #"[2,"x","Foo","payload"]"#, "FormatViolation"),
            (OCPPRPCDialect.ocpp201, #"[9,"x","Foo",{}]"#, "MessageTypeNotSupported"),
            (OCPPRPCDialect.ocpp201, #"[5,"x",{}]"#, "MessageTypeNotSupported"),
          ])
    func malformedWithID(dialect: OCPPRPCDialect, frame: String, expectedCode: String) async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(dialect, loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        #expect(rpc.receive(frame) == nil)
        #expect(sent.count == 1)
        // Read raw: an over-long id is echoed as received, which our own decoder would refuse.
        guard let reply = parse(sent.all.first ?? "")?.arrayValue, reply.count == 5 else {
            Issue.record("no CALLERROR for \(frame): \(sent.all)")
            return
        }
        #expect(reply[0] == 4)
        #expect(reply[2].stringValue == expectedCode)
        #expect(!(reply[3].stringValue ?? "").isEmpty)
        let id = parse(frame)?.arrayValue?[1].stringValue
        #expect(parse(sent.all[0])?.arrayValue?[1].stringValue == id)
    }

    @Test("a message id may have 36 characters, counted as characters, not bytes")
    func messageIDLength() {
        func decodes(_ id: String) -> Bool {
            if case .success = OCPPRPCFrame.decode(.array([2, .string(id), "Heartbeat", .object(JSONObject())])) { return true }
            return false
        }
        #expect(decodes(String(repeating: "a", count: 36)))
        #expect(!decodes(String(repeating: "a", count: 37)))
        #expect(decodes(String(repeating: "é", count: 36)))  // 72 bytes
        #expect(!decodes(String(repeating: "é", count: 37)))
        #expect(decodes(String(repeating: "🇩🇪", count: 36)))  // 288 bytes, one character each
        #expect(!decodes(""))
    }

    @Test("garbage without a readable message id gets no answer at all",
          arguments: ["", "nope", "{}", "[]", "[2]", #"[2,5,"A",{}]"#, #"[2,null,"A",{}]"#, "[2,\"x\"",
                      "\u{0}\u{1}", #"{"2":"x"}"#, "123", #""[2,\"x\",\"A\",{}]""#])
    func garbageIsIgnored(frame: String) async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        #expect(rpc.receive(frame) == nil)
        #expect(sent.count == 0)
    }

    @Test("a broken answer to our CALL ends it as a malformed response; nothing is sent back")
    func brokenAnswer() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = makeRPC(loop: loop)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let call = Task { () -> OCPPRPCError? in
            await callError(rpc, "A")
        }
        try await eventually("CALL sent") { sent.count == 1 }
        rpc.receive(#"[3,"m1","not an object"]"#)
        guard case .malformedResponse? = await call.value else {
            Issue.record("expected malformedResponse")
            return
        }
        #expect(sent.count == 1)
    }

    @Test("answers to inbound CALLs that outlive their connection are dropped")
    func answerAfterReconnectDropped() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let sent = SentFrames()
        let gate = AsyncStream<Void>.makeStream()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop) { _, _ in
            for await _ in gate.stream { break }
            return .success([:])
        }
        rpc.transportUp(send: sent.send)
        let task = rpc.receive(#"[2,"a","Slow",{}]"#)
        rpc.transportDown()
        let later = SentFrames()
        rpc.transportUp(send: later.send)
        gate.continuation.yield()
        await task?.value
        #expect(task != nil)
        #expect(sent.count == 0)
        #expect(later.count == 0)
    }

    @Test("1.6 and 2.0.1 spell every error code as their specs do")
    func spellings() {
        #expect(OCPPRPCDialect.ocpp16.spellings.count == 10)
        #expect(OCPPRPCDialect.ocpp16.spelling(of: .formationViolation) == "FormationViolation")
        #expect(OCPPRPCDialect.ocpp16.spelling(of: .occurrenceConstraintViolation) == "OccurenceConstraintViolation")
        #expect(OCPPRPCDialect.ocpp16.spelling(of: .messageTypeNotSupported) == "ProtocolError")
        #expect(OCPPRPCDialect.ocpp201.spellings.count == 12)
        #expect(OCPPRPCDialect.ocpp201.spelling(of: .formationViolation) == "FormatViolation")
        #expect(OCPPRPCDialect.ocpp201.spelling(of: .occurrenceConstraintViolation) == "OccurrenceConstraintViolation")
        #expect(OCPPRPCDialect.ocpp201.spelling(of: .rpcFrameworkError) == "RpcFrameworkError")
        #expect(OCPPRPCDialect.ocpp16.code(spelled: "OccurrenceConstraintViolation") == nil)
        for dialect in [OCPPRPCDialect.ocpp16, .ocpp201] {
            for (code, text) in dialect.spellings { #expect(dialect.code(spelled: text) == code) }
        }
    }

    @Test("random message ids are unique UUIDs of 36 characters")
    func messageIDs() {
        let generator = OCPPMessageIDGenerator.randomUUID
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let id = generator.next()
            #expect(id.count == 36)
            seen.insert(id)
        }
        #expect(seen.count == 20_000)
        #expect(OCPPMessageIDGenerator.uuidString(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
    }
}
