import ChargingCore
import HAL
import NIOEmbedded
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Station
import StationPort
import Storage
import Locking
import Synchronization
import Testing

/// A CSMS at the other end of the wire, in memory: it reads and writes OCPP-J frames, answers
/// the charge point's CALLs as a permissive CSMS does, and sends CALLs of its own.
private final class LoopbackCSMS: Sendable {
    private struct State {
        var frames: [OCPPRPCFrame] = []
        var rpc: OCPPRPC?
        var answers: [String: OCPPRPCFrame] = [:]
        var nextCall = 0
        var nextTransaction = 100
    }
    private let state = Mutex(State())

    func attach(_ rpc: OCPPRPC) { state.locked { $0.rpc = rpc } }

    /// The CALLs the charge point sent, as (action, payload).
    func calls(_ action: String) -> [JSONValue] {
        state.locked { s in
            s.frames.compactMap { if case let .call(_, a, payload) = $0, a == action { payload } else { nil } }
        }
    }

    /// The transport's `send`: a frame from the charge point.
    func receive(_ text: String) {
        guard let frame = try? OCPPRPCFrame.decode(text).get() else { return }
        let (rpc, answer) = state.locked { s -> (OCPPRPC?, JSONValue?) in
            s.frames.append(frame)
            switch frame {
            case let .call(_, action, _):
                switch action {
                case "BootNotification":
                    return (s.rpc, BootNotificationResponse(status: .accepted, currentTime: "2026-01-01T00:00:00Z", interval: 300).toJSON())
                case "StartTransaction":
                    s.nextTransaction += 1
                    return (s.rpc, StartTransactionResponse(idTagInfo: IdTagInfo(status: .accepted),
                                                            transactionId: s.nextTransaction).toJSON())
                case "Authorize":
                    return (s.rpc, AuthorizeResponse(idTagInfo: IdTagInfo(status: .accepted)).toJSON())
                default:
                    return (s.rpc, .object(JSONObject()))
                }
            case .callResult(let id, _), .callError(let id, _, _, _):
                s.answers[id] = frame
                return (nil, nil)
            }
        }
        guard let rpc, let answer, case let .call(id, _, _) = frame else { return }
        // Answered later, as a CSMS across a network does.
        Task { rpc.receive(OCPPRPCFrame.callResult(id: id, payload: answer).encoded()) }
    }

    /// Sends a CALL to the charge point; returns its message id.
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

private final class ChargePointBox: Sendable {
    let value = Mutex<OCPP16ChargePoint?>(nil)
}

/// The whole stack in one process, as MicroOcpp's loopback tests run it: the fake board and
/// its world (`Rig`), the station on the virtual clock, the station port, the OCPP 1.6 charge
/// point on a real RPC layer, and a CSMS that speaks OCPP-J frames. The test drives the loop:
/// a step of the station, then the port serves what the charge point asked.
private struct Loopback {
    let rig: Rig
    let port: LoopStationPort
    let csms = LoopbackCSMS()
    let chargePoint: OCPP16ChargePoint

    init() async throws {
        rig = try Rig()
        port = LoopStationPort(station: rig.station) { _ in }
        let box = ChargePointBox()
        let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: NIOAsyncTestingEventLoop(), messageIDs: .sequential(prefix: "cp"),
                          answering: { action, payload in
            guard let chargePoint = box.value.locked({ $0 }) else {
                return OCPPCallAnswer(.failure(OCPPCallError(.internalError, "not ready")))
            }
            return await chargePoint.answer(action: action, payload: payload)
        })
        let clock = rig.clock
        chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Loopback"), sender: rpc, station: port,
                                        storage: rig.station.storage, numberOfConnectors: 2,
                                        unixMs: { 1_767_225_600_000 + clock.now().microseconds / 1_000 },
                                        sleep: { _ in try? await Task.sleep(for: .seconds(3_600)) })
        box.value.locked { $0 = chargePoint }
        let transactions = chargePoint.transactions
        rig.station.sessionMessagesOwed = { change, journal in try transactions.messagesOwed(for: change, in: journal) }
        try rig.station.start(at: rig.clock.now())
        let wire = self.csms
        wire.attach(rpc)
        rpc.transportUp(send: { wire.receive($0) })
        await chargePoint.start()
        chargePoint.connectionUp()
        let registered = self.chargePoint
        #expect(await drive { await registered.registration == .accepted })
        #expect(await drive { wire.calls("StatusNotification").count >= 3 })
    }

    /// Steps the station and serves the port until `condition` holds (bounded; virtual time).
    func drive(limit: Int = 5_000, until condition: () async -> Bool) async -> Bool {
        for _ in 0..<limit {
            if await condition() { return true }
            rig.step()
            port.serve(at: rig.clock.now())
            await Task.yield()
        }
        return await condition()
    }

    /// A CALL from the CSMS and the charge point's answer (its payload), the loop running meanwhile.
    func call(_ action: String, _ payload: JSONValue) async -> JSONValue? {
        let id = csms.call(action, payload)
        let csms = csms
        guard await drive(until: { csms.answer(id) != nil }) else { return nil }
        if case let .callResult(_, answer) = csms.answer(id) { return answer }
        return nil
    }

    func status(_ action: String, _ payload: JSONValue) async -> JSONValue? { await call(action, payload)?["status"] }
}

@Suite("The station port, end to end in one process")
struct PortLoopbackTests {
    /// The bug the port removed: the adapter refused from a snapshot what the core accepts. A
    /// driver who reserved in an app taps "start" before plugging in.
    @Test(arguments: [("CARD1", "Accepted"), ("FLEET", "Accepted"), ("OTHER", "Rejected")])
    func remoteStartOnAReservedConnectorWithNothingPluggedIn(idTag: String, expected: String) async throws {
        let loop = try await Loopback()
        let expiry = "2026-01-01T02:00:00Z"
        #expect(await loop.status("ReserveNow", ["connectorId": 1, "expiryDate": .string(expiry), "idTag": "CARD1",
                                                 "parentIdTag": "FLEET", "reservationId": 7]) == "Accepted")
        #expect(await loop.drive { loop.csms.calls("StatusNotification").contains { $0["status"] == "Reserved" } })
        #expect(await loop.status("RemoteStartTransaction", ["idTag": .string(idTag), "connectorId": 1]) == .string(expected))
        guard expected == "Accepted" else {
            #expect(loop.rig.view(1)?.status == .reserved, "a refused start leaves the reservation")
            return
        }
        // The EV comes: the session starts on the reservation, which the StartTransaction names.
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.csms.calls("StartTransaction").count == 1 })
        let start = try #require(loop.csms.calls("StartTransaction").first)
        #expect(start["idTag"] == .string(idTag))
        #expect(start["reservationId"] == 7)
        #expect(loop.rig.view(1)?.session?.reservationId == 7)
    }

    @Test func remoteStopIsAcceptedOnlyOnceTheStopIsOnDisk() async throws {
        let loop = try await Loopback()
        #expect(await loop.status("RemoteStartTransaction", ["idTag": "R1", "connectorId": 1]) == "Accepted")
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.csms.calls("StartTransaction").count == 1 })
        #expect(await loop.drive { (loop.rig.pwm(1)?.dutyPercent ?? 100) < 100 })
        loop.rig.setEV(1, .c)
        #expect(await loop.drive { loop.rig.coil(1) })
        let session = try #require(loop.rig.view(1)?.session)
        #expect(await loop.drive { loop.chargePoint.transactions.transactionId(ofSession: session.id) != nil })
        let tx = try #require(loop.chargePoint.transactions.transactionId(ofSession: session.id))
        #expect(await loop.status("RemoteStopTransaction", ["transactionId": .integer(Int64(tx))]) == "Accepted")
        // Accepted: the stop is in the journal, though the EV in C keeps the contactor closed a while.
        #expect(try loop.rig.station.storage.journal.session(session.id)?.stopRequestedReason == "Remote")
        #expect(await loop.status("RemoteStopTransaction", ["transactionId": 9_999]) == "Rejected")
        loop.rig.setEV(1, .b)
        #expect(await loop.drive { loop.csms.calls("StopTransaction").count == 1 })
        #expect(loop.csms.calls("StopTransaction").first?["reason"] == "Remote")
        #expect(loop.csms.calls("StopTransaction").first?["transactionId"] == .integer(Int64(tx)))
    }

    @Test func changeAvailabilityIsAnsweredByTheCore() async throws {
        let loop = try await Loopback()
        #expect(await loop.status("RemoteStartTransaction", ["idTag": "R1", "connectorId": 2]) == "Accepted")
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(2)
        #expect(await loop.drive { loop.rig.view(2)?.session != nil })
        #expect(await loop.status("ChangeAvailability", ["connectorId": 1, "type": "Inoperative"]) == "Accepted")
        #expect(loop.rig.view(1)?.status == .unavailable)
        #expect(await loop.status("ChangeAvailability", ["connectorId": 0, "type": "Inoperative"]) == "Scheduled",
                "connector 2 changes when its session ends")
        #expect(await loop.status("ChangeAvailability", ["connectorId": 3, "type": "Inoperative"]) == "Rejected")
    }

    @Test func aSessionRuleChangedByTheCSMSGovernsTheNextDecision() async throws {
        let loop = try await Loopback()
        #expect(await loop.status("ChangeConfiguration", ["key": "StopTransactionOnEVSideDisconnect", "value": "false"]) == "Accepted")
        #expect(await loop.status("RemoteStartTransaction", ["idTag": "R1", "connectorId": 1]) == "Accepted")
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.csms.calls("StartTransaction").count == 1 })
        // The EV side is pulled out: the session stays open, no restart was needed.
        loop.rig.setEV(1, .a)
        for _ in 0..<300 { loop.rig.step(); loop.port.serve(at: loop.rig.clock.now()); await Task.yield() }
        #expect(loop.rig.view(1)?.session != nil)
        #expect(loop.csms.calls("StopTransaction").isEmpty)
        // And back: the next unplug ends it.
        #expect(await loop.status("ChangeConfiguration", ["key": "StopTransactionOnEVSideDisconnect", "value": "true"]) == "Accepted")
        loop.rig.setEV(1, .b)
        #expect(await loop.drive { loop.rig.view(1)?.pilot == .b })
        loop.rig.setEV(1, .a)
        #expect(await loop.drive { loop.csms.calls("StopTransaction").count == 1 })
        #expect(loop.csms.calls("StopTransaction").first?["reason"] == "EVDisconnected")
    }

    @Test func aCardIsAuthorizedByTheCSMSThroughThePort() async throws {
        let loop = try await Loopback()
        loop.rig.station.readMetersNow(at: loop.rig.clock.now())
        loop.rig.plug(1)
        #expect(await loop.drive { loop.rig.view(1)?.pilot == .b })
        loop.rig.station.presentCard(IdToken("UNLISTED9"), at: loop.rig.clock.now())
        #expect(await loop.drive { loop.csms.calls("Authorize").count == 1 })
        #expect(loop.csms.calls("Authorize").first?["idTag"] == "UNLISTED9")
        #expect(await loop.drive { loop.csms.calls("StartTransaction").count == 1 })
        #expect(loop.rig.view(1)?.session?.idToken.value == "UNLISTED9")
    }
}
