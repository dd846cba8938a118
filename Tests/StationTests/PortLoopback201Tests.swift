import ChargingCore
import HAL
import NIOEmbedded
import OCPP201
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import Station
import StationPort
import Storage
import Locking
import Synchronization
import Testing

/// A 2.0.1 CSMS at the other end of the wire, in memory: it reads and writes OCPP-J frames,
/// answers the station's CALLs as a permissive CSMS does, and sends CALLs of its own.
private final class LoopbackCSMS201: Sendable {
    private struct State {
        var frames: [OCPPRPCFrame] = []
        var rpc: OCPPRPC?
        var answers: [String: OCPPRPCFrame] = [:]
        var nextCall = 0
    }
    private let state = Mutex(State())

    func attach(_ rpc: OCPPRPC) { state.locked { $0.rpc = rpc } }

    func calls(_ action: String) -> [JSONValue] {
        state.locked { s in
            s.frames.compactMap { if case let .call(_, a, payload) = $0, a == action { payload } else { nil } }
        }
    }

    func receive(_ text: String) {
        guard let frame = try? OCPPRPCFrame.decode(text).get() else { return }
        let (rpc, answer) = state.locked { s -> (OCPPRPC?, JSONValue?) in
            s.frames.append(frame)
            switch frame {
            case let .call(_, action, _):
                switch action {
                case "BootNotification":
                    return (s.rpc, BootNotificationResponse(currentTime: "2026-01-01T00:00:00Z", interval: 300, status: .accepted).toJSON())
                case "Authorize":
                    return (s.rpc, AuthorizeResponse(idTokenInfo: IdTokenInfoType(status: .accepted)).toJSON())
                default:
                    return (s.rpc, .object(JSONObject()))
                }
            case .callResult(let id, _), .callError(let id, _, _, _):
                s.answers[id] = frame
                return (nil, nil)
            }
        }
        guard let rpc, let answer, case let .call(id, _, _) = frame else { return }
        Task { rpc.receive(OCPPRPCFrame.callResult(id: id, payload: answer).encoded()) }
    }

    func call(_ action: String, _ payload: JSONValue) -> String {
        let (id, rpc) = state.locked { s -> (String, OCPPRPC?) in
            s.nextCall += 1
            return ("csms-\(s.nextCall)", s.rpc)
        }
        _ = rpc?.receive(OCPPRPCFrame.call(id: id, action: action, payload: payload).encoded())
        return id
    }

    func answer(_ id: String) -> OCPPRPCFrame? { state.locked { $0.answers[id] } }
}

private final class StationBox: Sendable {
    let value = Mutex<OCPP201ChargingStation?>(nil)
}

/// The whole stack in one process with the 2.0.1 adapter: the fake board (`Rig`), the station
/// on the virtual clock, the station port, the 2.0.1 charging station on a real RPC layer (the
/// 2.0.1 dialect), and a CSMS that speaks OCPP-J frames.
private struct Loopback201 {
    let rig: Rig
    let port: LoopStationPort
    let csms = LoopbackCSMS201()
    let chargingStation: OCPP201ChargingStation

    init() async throws {
        rig = try Rig()
        port = LoopStationPort(station: rig.station) { _ in }
        let box = StationBox()
        let rpc = OCPPRPC(dialect: .ocpp201, timerLoop: NIOAsyncTestingEventLoop(), messageIDs: .sequential(prefix: "cs"),
                          answering: { action, payload in
            guard let station = box.value.locked({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "not ready")))
            }
            return await station.answer(action: action, payload: payload)
        })
        let clock = rig.clock
        chargingStation = OCPP201ChargingStation(identity: .init(vendor: "SwiftEVSE", model: "Loopback"), sender: rpc, station: port,
                                                 storage: rig.station.storage,
                                                 unixMs: { 1_767_225_600_000 + clock.now().microseconds / 1_000 },
                                                 sleep: { _ in try? await Task.sleep(for: .seconds(3_600)) })
        box.value.locked { $0 = chargingStation }
        let transactions = chargingStation.transactions
        rig.station.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
        try rig.station.start(at: rig.clock.now())
        let wire = self.csms
        wire.attach(rpc)
        rpc.transportUp(send: { wire.receive($0) })
        await chargingStation.start()
        chargingStation.connectionUp()
        let registered = self.chargingStation
        #expect(await drive { await registered.registration == .accepted })
        #expect(await drive { wire.calls("StatusNotification").count >= 2 })
    }

    func drive(limit: Int = 5_000, until condition: () async -> Bool) async -> Bool {
        for _ in 0..<limit {
            if await condition() { return true }
            rig.step()
            port.serve(at: rig.clock.now())
            await Task.yield()
        }
        return await condition()
    }

    func call(_ action: String, _ payload: JSONValue) async -> JSONValue? {
        let id = csms.call(action, payload)
        let csms = csms
        guard await drive(until: { csms.answer(id) != nil }) else { return nil }
        if case let .callResult(_, answer) = csms.answer(id) { return answer }
        return nil
    }

    func status(_ action: String, _ payload: JSONValue) async -> JSONValue? { await call(action, payload)?["status"] }
}

@Suite("The station port, end to end in one process, with the OCPP 2.0.1 adapter")
struct PortLoopback201Tests {
    /// The core decides a remote start on a reserved EVSE: the reserved token and its group
    /// start, another token does not.
    @Test(arguments: [("CARD1", "Accepted"), ("FLEET", "Accepted"), ("OTHER", "Rejected")])
    func requestStartOnAReservedEVSE(token: String, expected: String) async throws {
        let loop = try await Loopback201()
        #expect(await loop.status("ReserveNow", ["id": 7, "expiryDateTime": "2026-01-01T02:00:00Z", "evseId": 1,
                                                 "idToken": ["idToken": "CARD1", "type": "ISO14443"],
                                                 "groupIdToken": ["idToken": "FLEET", "type": "Central"]]) == "Accepted")
        #expect(await loop.drive { loop.csms.calls("StatusNotification").contains { $0["connectorStatus"] == "Reserved" } })
        let answer = await loop.status("RequestStartTransaction", ["idToken": ["idToken": .string(token), "type": "Central"],
                                                                   "remoteStartId": 3, "evseId": 1])
        #expect(answer == .string(expected))
        guard expected == "Accepted" else {
            #expect(loop.rig.view(1)?.status == .reserved, "a refused start leaves the reservation")
            return
        }
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.csms.calls("TransactionEvent").count == 1 })
        let started = try #require(loop.csms.calls("TransactionEvent").first)
        #expect(started["eventType"] == "Started")
        #expect(started["reservationId"] == 7)
        #expect(started["transactionInfo"]?["remoteStartId"] == 3)
    }

    @Test func aRemoteSessionStartedChargedAndStoppedWithIncreasingSeqNo() async throws {
        let loop = try await Loopback201()
        #expect(await loop.status("RequestStartTransaction", ["idToken": ["idToken": "R1", "type": "Central"], "remoteStartId": 1,
                                                              "evseId": 1]) == "Accepted")
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.csms.calls("TransactionEvent").count == 1 })
        loop.rig.setEV(1, .c)
        #expect(await loop.drive { loop.rig.coil(1) })
        #expect(await loop.drive { loop.csms.calls("TransactionEvent").contains { $0["transactionInfo"]?["chargingState"] == "Charging" } })
        let session = try #require(loop.rig.view(1)?.session)
        #expect(await loop.status("RequestStopTransaction", ["transactionId": .string(session.id)]) == "Accepted")
        #expect(try loop.rig.station.storage.journal.session(session.id)?.stopRequestedReason == "Remote")
        loop.rig.setEV(1, .b)
        #expect(await loop.drive { loop.csms.calls("TransactionEvent").contains { $0["eventType"] == "Ended" } })
        let events = loop.csms.calls("TransactionEvent")
        #expect(events.map { $0["seqNo"] } == (0..<events.count).map { .integer(Int64($0)) })
        #expect(events.last?["transactionInfo"]?["stoppedReason"] == "Remote")
        #expect(events.allSatisfy { $0["transactionInfo"]?["transactionId"] == .string(session.id) })
    }

    @Test func changeAvailabilityIsAnsweredByTheCore() async throws {
        let loop = try await Loopback201()
        #expect(await loop.status("RequestStartTransaction", ["idToken": ["idToken": "R2", "type": "Central"], "remoteStartId": 2,
                                                              "evseId": 2]) == "Accepted")
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(2)
        #expect(await loop.drive { loop.rig.view(2)?.session != nil })
        #expect(await loop.status("ChangeAvailability", ["operationalStatus": "Inoperative", "evse": ["id": 1]]) == "Accepted")
        #expect(loop.rig.view(1)?.status == .unavailable)
        #expect(await loop.status("ChangeAvailability", ["operationalStatus": "Inoperative"]) == "Scheduled",
                "EVSE 2 changes when its transaction ends")
        #expect(await loop.status("ChangeAvailability", ["operationalStatus": "Inoperative", "evse": ["id": 3]]) == "Rejected")
        #expect(await loop.drive { loop.csms.calls("StatusNotification").contains { $0["evseId"] == 1 && $0["connectorStatus"] == "Unavailable" } })
    }
}
