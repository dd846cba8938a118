import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization
import Testing

/// Holds the BootNotification's answer until the test lets it through.
final class GatedBootCSMS: OCPP16CallSender {
    private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let accept = FakeCSMS.acceptEverything(boot: .pending, interval: 60)

    func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue {
        if action == "BootNotification" { await withCheckedContinuation { c in gate.locked { $0 = c } } }
        return try accept(action, payload).get()
    }

    var bootSent: Bool { gate.locked { $0 != nil } }
    func answerBoot() { gate.locked { $0?.resume(); $0 = nil } }
}

@Suite("OCPP 1.6 calls racing the boot answer")
struct BootRaceTests {
    @Test func aCallThatOvertakesTheReadingOfTheBootAnswerWaitsForIt() async throws {
        let csms = GatedBootCSMS()
        let storage = try StationStorage(database: Database.inMemory())
        let cp = OCPP16ChargePoint(identity: .init(vendor: "V", model: "M"), sender: csms, station: FakeStation(),
                                   storage: storage, numberOfConnectors: 2, unixMs: { 0 }, sleep: ManualSleeper().sleeper)
        await cp.start()
        cp.connectionUp()
        #expect(await settle { csms.bootSent })
        // The CSMS answered Pending and then called; the call is handled before the answer is read.
        let call = Task { await cp.handle(action: "GetConfiguration", payload: ["key": ["NumberOfConnectors"]]) }
        for _ in 0..<100 { await Task.yield() }
        csms.answerBoot()
        let answer = try await call.value.get()
        #expect(answer["configurationKey"]?.arrayValue?.first?["value"] == "2")
        #expect(await cp.registration == .pending)
        await cp.stop()
    }
}
