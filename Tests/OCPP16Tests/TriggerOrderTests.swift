import TestSupport
import ChargingCore
import NIOEmbedded
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Locking
import Synchronization
import Testing

/// The wire under a real `OCPPRPC`: every frame in the order the transport was handed it, and
/// a CSMS that answers the charge point's CALLs.
private final class Wire: Sendable {
    private let state = Mutex<(frames: [OCPPRPCFrame], rpc: OCPPRPC?)>(([], nil))

    func attach(_ rpc: OCPPRPC) { state.locked { $0.rpc = rpc } }
    var frames: [OCPPRPCFrame] { state.locked { $0.frames } }

    func calls(_ action: String) -> Int {
        frames.filter { if case .call(_, action, _) = $0 { true } else { false } }.count
    }

    func send(_ text: String) {
        guard let frame = try? OCPPRPCFrame.decode(text).get() else { return }
        let rpc = state.locked { s in s.frames.append(frame); return s.rpc }
        guard case let .call(id, action, _) = frame, let rpc else { return }
        let payload: JSONValue = switch action {
        case "BootNotification": BootNotificationResponse(status: .accepted, currentTime: FakeCSMS.time, interval: 300).toJSON()
        case "Heartbeat": HeartbeatResponse(currentTime: FakeCSMS.time).toJSON()
        default: .object(JSONObject())
        }
        // Answered later, as a CSMS across a network does.
        Task { rpc.receive(OCPPRPCFrame.callResult(id: id, payload: payload).encoded()) }
    }
}

/// Holds the answer to one action until opened: the worst case for the reply's task, which
/// then comes to the transport after everything else that could run meanwhile.
private final class ReplyGate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func pass() async {
        await withCheckedContinuation { c in
            let open = state.locked { s in
                if !s.open { s.waiting.append(c) }
                return s.open
            }
            if open { c.resume() }
        }
    }

    func open() {
        let waiting = state.locked { s in
            s.open = true
            defer { s.waiting.removeAll() }
            return s.waiting
        }
        for c in waiting { c.resume() }
    }
}

private final class ChargePointBox: Sendable {
    let value = Mutex<OCPP16ChargePoint?>(nil)
}

@Suite("OCPP 1.6 trigger order on the wire")
struct TriggerOrderTests {
    /// A registered charge point on a real RPC; CALLs named `held` are answered only once
    /// their gate is opened.
    fileprivate func connected(holding held: String, gate: ReplyGate) async throws -> (OCPPRPC, Wire, OCPP16ChargePoint) {
        let wire = Wire()
        let box = ChargePointBox()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: NIOAsyncTestingEventLoop(), messageIDs: .sequential(prefix: "cp"),
                          answering: { action, payload in
            guard let chargePoint = box.value.locked({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "not ready")))
            }
            let answer = await chargePoint.answer(action: action, payload: payload)
            if action == held { await gate.pass() }
            return answer
        })
        let chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test"), sender: rpc,
                                            station: FakeStation(), storage: try StationStorage(database: Database.inMemory()),
                                            numberOfConnectors: 2, unixMs: { 1_767_225_600_000 },
                                            sleep: ManualSleeper().sleeper)
        box.value.locked { $0 = chargePoint }
        wire.attach(rpc)
        rpc.transportUp(send: wire.send)
        await chargePoint.start()
        chargePoint.connectionUp()
        #expect(await settle { await chargePoint.registration == .accepted })
        #expect(await settle { wire.calls("StatusNotification") == 3 && !rpc.hasOutstandingCall })
        return (rpc, wire, chargePoint)
    }

    @Test(arguments: [("TriggerMessage", "FirmwareStatusNotification", "FirmwareStatusNotification"),
                      ("TriggerMessage", "Heartbeat", "Heartbeat"),
                      ("ExtendedTriggerMessage", "StatusNotification", "StatusNotification")])
    func theConfIsOnTheWireBeforeTheTriggeredMessage(trigger: String, requested: String, sent: String) async throws {
        let gate = ReplyGate()
        let (rpc, wire, chargePoint) = try await connected(holding: trigger, gate: gate)
        let before = wire.calls(sent)
        let served = rpc.receive(#"[2,"trigger-1","\#(trigger)",{"requestedMessage":"\#(requested)"}]"#)
        // The answer is held: nothing the trigger asked for may leave before it, however long
        // its task is kept from the transport.
        let overtaken = await happens { wire.calls(sent) > before }
        #expect(!overtaken, "\(sent) overtook the \(trigger).conf")
        gate.open()
        await served?.value
        let frames = wire.frames
        let conf = try #require(frames.firstIndex { if case .callResult("trigger-1", _) = $0 { true } else { false } })
        let sentAt = frames.indices.filter { if case .call(_, sent, _) = frames[$0] { true } else { false } }
        let triggered = try #require(sentAt.dropFirst(before).first, "\(sent) was never sent")
        #expect(conf < triggered)
        await chargePoint.stop()
    }
}
