// Times an inbound OCPP 1.6 and 2.0.1 CALL through the RPC layer and the charge point (charging
// station) of that version — frame parsed,
// payload validated against the schema, handled, CALLRESULT written — against the DESIGN
// budget (median ≤ 100 µs). No socket: the frame goes in as text and the answer comes out as
// text, which is what the WebSocket handler hands over; the network is measured end to end
// by the interop test that reports GetConfiguration as the CSMS sees it.
//
//   swift run -c release OCPPBenchmarks [calls]
import ChargingCore
import Glibc
import Logging
import NIOPosix
import OCPP16
import OCPP16Messages
import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization

/// Accepts the boot (the answer has the same members in 1.6 and 2.0.1); answers everything
/// else with an empty payload.
struct AcceptingCSMS: OCPP16CallSender, OCPP201CallSender {
    func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue {
        if action == "BootNotification" {
            return ["status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 300]
        }
        return .object(JSONObject())
    }
}

/// Two idle connectors; reservations and unlocks answered at once.
final class IdleStation: StationPort {
    let events = AsyncStream<StationEvent> { _ in }
    func submit(_ request: StationRequest) {}
    func request(_ request: StationRequest) async -> StationAnswer {
        if case .connectors = request { return .connectors([1, 2].map { ConnectorSnapshot(id: $0, status: .available) }) }
        return .accepted
    }
}

/// The answers the RPC layer writes, picked up by the waiting benchmark.
final class AnswerBox: Sendable {
    let last = Mutex<String?>(nil)
}

func microseconds(_ d: Duration) -> Double {
    let (seconds, attoseconds) = d.components
    return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
}

func format(_ v: Double) -> String {
    let hundredths = Int64((v * 100).rounded())
    let fraction = String(hundredths % 100)
    return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)"
}

let calls = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }

let storage = try StationStorage(database: Database.inMemory())
let chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Bench", serialNumber: "B1"),
                                    sender: AcceptingCSMS(), station: IdleStation(), storage: storage,
                                    numberOfConnectors: 2, unixMs: { 1_767_225_600_000 })
await chargePoint.start()
chargePoint.connectionUp()
while await chargePoint.registration != .accepted { await Task.yield() }

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let clock = ContinuousClock()
var failed = false

/// Sends every case's frame `calls` times through `rpc`; prints p50/p99/max; false when an answer is wrong or over budget.
func run(_ title: String, _ rpc: OCPPRPC, _ answers: AnswerBox, _ cases: [(name: String, frame: String, expect: String)]) async -> Bool {
    var ok = true
    print("\(title), \(calls) calls per case (budget: median ≤ 100 µs)")
    for c in cases {
        var samples: [Double] = []
        samples.reserveCapacity(calls)
        for _ in 0..<calls {
            let began = clock.now
            await rpc.receive(c.frame)?.value
            samples.append(microseconds(clock.now - began))
        }
        guard let answer = answers.last.locked({ $0 }), answer.contains(c.expect) else {
            print("  \(c.name): WRONG ANSWER \(answers.last.locked { $0 } ?? "none")")
            ok = false
            continue
        }
        let sorted = samples.sorted()
        let p50 = percentile(sorted, 50)
        print("  \(c.name): p50 \(format(p50)) µs, p99 \(format(percentile(sorted, 99))) µs, max \(format(sorted.last ?? 0)) µs"
            + (p50 <= 100 ? "" : "  OVER BUDGET"))
        if p50 > 100 { ok = false }
    }
    return ok
}

let rpc = OCPPRPC(dialect: .ocpp16, timerLoop: group.next()) { action, payload in
    await chargePoint.handle(action: action, payload: payload)
}
let answers = AnswerBox()
rpc.transportUp { text in answers.last.locked { $0 = text } }
failed = !(await run("inbound OCPP 1.6 CALL → CALLRESULT", rpc, answers, [
    ("GetConfiguration [HeartbeatInterval]", #"[2,"b1","GetConfiguration",{"key":["HeartbeatInterval"]}]"#, #""HeartbeatInterval""#),
    ("GetConfiguration (every key)", #"[2,"b2","GetConfiguration",{}]"#, #""NumberOfConnectors""#),
    ("ChangeConfiguration MeterValueSampleInterval", #"[2,"b3","ChangeConfiguration",{"key":"MeterValueSampleInterval","value":"60"}]"#, #""Accepted""#),
    ("RemoteStopTransaction (unknown id)", #"[2,"b4","RemoteStopTransaction",{"transactionId":4711}]"#, #""Rejected""#),
    ("schema violation → CALLERROR", #"[2,"b5","Reset",{"type":"Sideways"}]"#, #""PropertyConstraintViolation""#),
]))
await chargePoint.stop()
rpc.shutDown()

let storage201 = try StationStorage(database: Database.inMemory())
// With its device model, whose settings are read from SQLite on each GetVariables.
let deviceModel201 = try DeviceModel(store: storage201.deviceModel,
                                     layout: StationLayout(evses: [EVSELayout(evseId: 1), EVSELayout(evseId: 2)]),
                                     identity: StationIdentity(vendorName: "SwiftEVSE", model: "Bench", firmwareVersion: "1"))
let station201 = OCPP201ChargingStation(identity: .init(vendor: "SwiftEVSE", model: "Bench", serialNumber: "B1"),
                                        sender: AcceptingCSMS(), station: IdleStation(), storage: storage201,
                                        unixMs: { 1_767_225_600_000 }, deviceModel: deviceModel201)
await station201.start()
station201.connectionUp()
while await station201.registration != .accepted { await Task.yield() }
let rpc201 = OCPPRPC(dialect: .ocpp201, timerLoop: group.next()) { action, payload in
    await station201.answer(action: action, payload: payload)
}
let answers201 = AnswerBox()
rpc201.transportUp { text in answers201.last.locked { $0 = text } }
let ok201 = await run("inbound OCPP 2.0.1 CALL → CALLRESULT", rpc201, answers201, [
    ("GetTransactionStatus", #"[2,"c1","GetTransactionStatus",{}]"#, #""messagesInQueue":false"#),
    ("GetVariables OCPPCommCtrlr.HeartbeatInterval",
     #"[2,"c6","GetVariables",{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#,
     #""attributeStatus":"Accepted""#),
    ("SetVariables OCPPCommCtrlr.HeartbeatInterval (stored in SQLite)",
     #"[2,"c7","SetVariables",{"setVariableData":[{"attributeValue":"300","component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"}}]}]"#,
     #""attributeStatus":"Accepted""#),
    ("RequestStopTransaction (unknown id)", #"[2,"c2","RequestStopTransaction",{"transactionId":"4711"}]"#, #""Rejected""#),
    ("ClearCache", #"[2,"c3","ClearCache",{}]"#, #""Accepted""#),
    ("GetCompositeSchedule (no profiles)", #"[2,"c4","GetCompositeSchedule",{"duration":600,"evseId":1}]"#, #""Accepted""#),
    ("schema violation → CALLERROR", #"[2,"c5","Reset",{"type":"Sideways"}]"#, #""PropertyConstraintViolation""#),
])
failed = failed || !ok201
await station201.stop()
rpc201.shutDown()
try await group.shutdownGracefully()
exit(failed ? 1 : 0)
