import TestSupport
import NIOCore
import NIOEmbedded
import OCPPJSON
import Testing
@testable import OCPPTransport

/// Thousands of broken frames from a seeded generator: each must get the right error or
/// silence, never a crash, and the RPC layer must still work afterwards.
@Suite("OCPP RPC fuzz")
struct RPCFuzzTests {
    static let actions = ["Heartbeat", "Reject", "Unknown", "", "💥", String(repeating: "A", count: 300)]

    static func randomJSON(_ g: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .integer(Int64.random(in: -1_000_000...1_000_000, using: &g))
        case 3: return .double(Double.random(in: -1e6...1e6, using: &g))
        case 4: return .string(String(repeating: "x", count: Int.random(in: 0...40, using: &g)))
        case 5: return .array((0..<Int.random(in: 0...4, using: &g)).map { _ in randomJSON(&g, depth: depth + 1) })
        default:
            var object = JSONObject()
            for index in 0..<Int.random(in: 0...4, using: &g) {
                object["k\(index)"] = randomJSON(&g, depth: depth + 1)
            }
            return .object(object)
        }
    }

    /// One hostile frame: a valid-looking frame with parts swapped, truncated, padded,
    /// retyped, huge, or plain noise.
    static func hostileFrame(_ g: inout SeededGenerator) -> String {
        let typeIDs: [JSONValue] = [2, 3, 4, 0, 1, 5, 99, -2, .double(2.5), "2", .null, [2]]
        let ids: [JSONValue] = [.string("id\(g.next() % 1000)"), "", .string(String(repeating: "z", count: 37)), 7, .null,
                                ["id"], .object(JSONObject())]
        var elements: [JSONValue] = [typeIDs.randomElement(using: &g) ?? 2, ids.randomElement(using: &g) ?? "x"]
        switch Int.random(in: 0..<4, using: &g) {
        case 0: elements.append(.string(actions.randomElement(using: &g) ?? ""))
        case 1: elements.append(randomJSON(&g))
        default: break
        }
        for _ in 0..<Int.random(in: 0...3, using: &g) { elements.append(randomJSON(&g)) }
        var text = JSONWriter.writeString(.array(elements))
        switch Int.random(in: 0..<10, using: &g) {
        case 0:  // truncated
            text = String(text.prefix(Int.random(in: 0...text.count, using: &g)))
        case 1:  // random bytes
            let bytes = (0..<Int.random(in: 0...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            text = String(decoding: bytes, as: UTF8.self)
        case 2:  // byte flip
            var bytes = Array(text.utf8)
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &g)] = UInt8.random(in: 0...127, using: &g) }
            text = String(decoding: bytes, as: UTF8.self)
        case 3:  // huge payload
            let huge = String(repeating: "h", count: Int.random(in: 1_000...20_000, using: &g))
            text = #"[2,"huge","Heartbeat",{"blob":""# + huge + #""}]"#
        case 4:  // deep nesting
            let depth = Int.random(in: 10...5_000, using: &g)
            text = #"[2,"deep","Heartbeat","# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "]"
        default: break
        }
        return text
    }

    /// What the frame deserves, judged independently of the decoder: nil = silence, else the
    /// id to echo and whether it must be a CALLRESULT.
    static func expectation(_ text: String, dialect: OCPPRPCDialect) -> (id: String, result: Bool)? {
        guard let value = try? JSONParser.parse(text), let elements = value.arrayValue, elements.count >= 2,
              let id = elements[1].stringValue else { return nil }
        let type = elements[0].int64Value
        if type == 3 || type == 4 { return nil }
        let wellFormedCall = type == 2 && elements.count == 4 && elements[2].stringValue != nil
            && elements[3].objectValue != nil && !id.isEmpty && id.count <= 36
        return (id, wellFormedCall && elements[2].stringValue == "Heartbeat")
    }

    @Test("5000 hostile frames per version: right error or silence, and the layer keeps working",
          arguments: [(OCPPRPCDialect.ocpp16, UInt64(16)), (OCPPRPCDialect.ocpp201, UInt64(201))])
    func hostileFrames(dialect: OCPPRPCDialect, seed: UInt64) async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = OCPPRPC(dialect: dialect, timerLoop: loop, messageIDs: .sequential(prefix: "own"), logger: quietLogger,
                          handler: testHandler)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        var g = SeededGenerator(seed: seed)
        var answered = 0
        var silent = 0
        for _ in 0..<5_000 {
            let frame = Self.hostileFrame(&g)
            let before = sent.count
            await rpc.receive(frame)?.value
            let replies = sent.since(before)
            guard let expected = Self.expectation(frame, dialect: dialect) else {
                #expect(replies.isEmpty, "answered a frame without a readable id: \(frame.prefix(200))")
                silent += 1
                continue
            }
            answered += 1
            #expect(replies.count == 1, "expected one answer to \(frame.prefix(200))")
            guard let reply = replies.first, let elements = parse(reply)?.arrayValue, elements.count >= 3 else {
                Issue.record("unreadable answer \(replies) to \(frame.prefix(200))")
                continue
            }
            #expect(elements[1].stringValue == expected.id)
            if expected.result {
                #expect(elements[0] == 3)
            } else {
                #expect(elements[0] == 4 && elements.count == 5)
                let code = elements[2].stringValue ?? ""
                #expect(dialect.code(spelled: code) != nil, "unknown error code \(code)")
                #expect((elements[3].stringValue?.count ?? 999) <= dialect.maxDescriptionLength)
            }
        }
        #expect(answered > 1_000)
        #expect(silent > 1_000)
        // Still alive: a CALL goes out and its answer comes back.
        let before = sent.count
        let call = Task { try await rpc.call("Heartbeat", payload: [:]) }
        try await eventually("CALL sent after the storm") { sent.count == before + 1 }
        guard let id = sent.frame(before)?.messageID else {
            Issue.record("no CALL after the storm")
            return
        }
        rpc.receive(#"[3,"\#(id)",{"alive":true}]"#)
        #expect(try await call.value["alive"] == .bool(true))
    }

    @Test("a 4 MB payload is served; a frame over the parser's 8 MB limit is dropped in silence")
    func hugeFrames() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: loop, logger: quietLogger, handler: testHandler)
        let sent = SentFrames()
        rpc.transportUp(send: sent.send)
        let big = String(repeating: "b", count: 4 << 20)
        await rpc.receive(#"[2,"big","Heartbeat",{"blob":""# + big + #""}]"#)?.value
        #expect(sent.frame(0) == .callResult(id: "big", payload: ["currentTime": "2026-01-01T00:00:00Z"]))
        await rpc.receive(#"[2,"huge","Heartbeat",{"blob":""# + big + big + #""}]"#)?.value
        #expect(sent.count == 1)
    }
}
