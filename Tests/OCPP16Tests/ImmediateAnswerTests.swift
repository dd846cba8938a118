import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Testing

/// A CALL whose handler never suspends (GetConfiguration) is answered on the charge point's
/// event loop where it was read: no task, no actor hop, the same answer as the async path.
@Suite("OCPP 1.6 immediate answers")
struct ImmediateAnswerTests {
    func onTheLoop(_ h: Harness, _ action: String, _ payload: JSONValue) async throws -> OCPPCallAnswer? {
        let chargePoint = h.chargePoint
        return try await chargePoint.executorLoop.submit { chargePoint.answerImmediately(action: action, payload: payload) }.get()
    }

    @Test func getConfigurationIsAnsweredOnTheLoopOnceRegisteredAsTheAsyncPathAnswersIt() async throws {
        let h = try Harness()
        #expect(h.chargePoint.operations.immediateActions == [.getConfiguration])
        let one: JSONValue = ["key": ["HeartbeatInterval", "NoSuchKey"]]
        #expect(try await onTheLoop(h, "GetConfiguration", one) == nil, "not registered: the async path waits or refuses")
        await h.chargePoint.start()
        h.chargePoint.connectionUp()
        #expect(await settle { await h.chargePoint.registration == .accepted })

        let immediate = try #require(try await onTheLoop(h, "GetConfiguration", one))
        let asynchronous = await h.chargePoint.handle(action: "GetConfiguration", payload: one)
        #expect(try immediate.result.get() == asynchronous.get())
        #expect(try GetConfigurationResponse(json: immediate.result.get()).unknownKey == ["NoSuchKey"])
        #expect(immediate.afterReply == nil)

        #expect(h.chargePoint.answerImmediately(action: "GetConfiguration", payload: one) == nil,
                "off the charge point's loop: the async path answers")
        #expect(try await onTheLoop(h, "Reset", ["type": "Soft"]) == nil, "an operation that suspends")
        #expect(try await onTheLoop(h, "NoSuchAction", [:]) == nil)
        let bad: JSONValue = ["key": "HeartbeatInterval"]
        let malformed = try #require(try await onTheLoop(h, "GetConfiguration", bad))
        let malformedAsync = await h.chargePoint.handle(action: "GetConfiguration", payload: bad)
        guard case .failure(let error) = malformed.result, case .failure(let asyncError) = malformedAsync else {
            Issue.record("a malformed GetConfiguration was answered \(malformed.result)")
            return
        }
        #expect(error.code == asyncError.code)
    }
}
