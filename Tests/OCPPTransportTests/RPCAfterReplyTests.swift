import HAL
import NIOEmbedded
import OCPPJSON
import Locking
import Synchronization
import Testing
@testable import OCPPTransport

/// The RPC layer is made before the handler that calls through it.
private final class RPCBox: Sendable {
    let value = Mutex<OCPPRPC?>(nil)
    var rpc: OCPPRPC? { value.locked { $0 } }
}

/// What left through the transport and when the follow-up began, in one order.
private final class WireLog: Sendable {
    private let entries = Mutex<[String]>([])
    var all: [String] { entries.locked { $0 } }
    func append(_ entry: String) { entries.locked { $0.append(entry) } }
}

@Suite("OCPP RPC: what an answer promises goes after it")
struct RPCAfterReplyTests {
    @Test("a follow-up (a triggered message) starts only once the CALLRESULT was handed to the transport")
    func followUpStartsAfterTheReply() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let box = RPCBox()
        let log = WireLog()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, messageIDs: .sequential(prefix: "cp"), logger: quietLogger,
                          answering: { _, _ in
            OCPPCallAnswer(.success(["status": "Accepted"]), afterReply: {
                log.append("follow-up started")
                _ = try? await box.rpc?.call("FirmwareStatusNotification", payload: ["status": "Idle"])
            })
        })
        box.value.locked { $0 = rpc }
        rpc.transportUp { text in log.append(text) }
        let served = rpc.receive(#"[2,"trigger-1","TriggerMessage",{"requestedMessage":"FirmwareStatusNotification"}]"#)
        try await eventually("the triggered CALL is sent") { log.all.count == 3 }
        #expect(log.all == [#"[3,"trigger-1",{"status":"Accepted"}]"#,
                            "follow-up started",
                            #"[2,"cp1","FirmwareStatusNotification",{"status":"Idle"}]"#])
        rpc.receive(#"[3,"cp1",{}]"#)
        await served?.value
        #expect(!rpc.hasOutstandingCall)
    }

    @Test("an immediate answer is on the wire when receive returns, with no task; nil falls back to the handler")
    func immediateAnswerNeedsNoTask() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let asked = Mutex<[String]>([])
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, logger: quietLogger, immediately: { action, _ in
            asked.locked { $0.append(action) }
            return action == "GetConfiguration" ? OCPPCallAnswer(.success(["configurationKey": []])) : nil
        }, answering: { action, _ in OCPPCallAnswer(.success(["from": .string("task \(action)")])) })
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let served = rpc.receive(#"[2,"g1","GetConfiguration",{}]"#)
        #expect(served == nil, "no task for an immediate answer without a follow-up")
        #expect(sent.all == [#"[3,"g1",{"configurationKey":[]}]"#])
        let other = rpc.receive(#"[2,"r1","Reset",{"type":"Soft"}]"#)
        await other?.value
        #expect(other != nil)
        #expect(sent.all.last == #"[3,"r1",{"from":"task Reset"}]"#)
        #expect(asked.locked { $0 } == ["GetConfiguration", "Reset"])
    }

    @Test("what an immediate answer promised starts after its reply")
    func immediateAnswersFollowUpGoesAfterIt() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let log = WireLog()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, logger: quietLogger, immediately: { _, _ in
            OCPPCallAnswer(.success(["status": "Accepted"]), afterReply: { log.append("follow-up started") })
        }, answering: { _, _ in OCPPCallAnswer(.failure(OCPPCallError(.internalError, "not asked"))) })
        rpc.transportUp { text in log.append(text) }
        let followUp = rpc.receive(#"[2,"t1","TriggerMessage",{"requestedMessage":"Heartbeat"}]"#)
        await followUp?.value
        #expect(log.all == [#"[3,"t1",{"status":"Accepted"}]"#, "follow-up started"])
    }

    @Test("an answer whose connection is gone is dropped, and what it promised is never sent")
    func droppedAnswerDropsItsFollowUp() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let gate = AsyncStream<Void>.makeStream()
        let followed = Mutex(false)
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, logger: quietLogger, answering: { _, _ in
            for await _ in gate.stream { break }
            return OCPPCallAnswer(.success(["status": "Accepted"]), afterReply: { followed.locked { $0 = true } })
        })
        let first = SentFrames()
        rpc.transportUp(send: first.send)
        let served = rpc.receive(#"[2,"t","TriggerMessage",{"requestedMessage":"Heartbeat"}]"#)
        rpc.transportDown()
        let second = SentFrames()
        rpc.transportUp(send: second.send)
        gate.continuation.yield()
        await served?.value
        #expect(first.count == 0 && second.count == 0)
        #expect(!followed.locked { $0 })
    }
}
