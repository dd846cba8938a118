import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Synchronization

/// The CSMS side of the RPC, in memory: records every CALL and answers with `answer`.
final class FakeCSMS: OCPP16CallSender {
    typealias Answer = @Sendable (_ action: String, _ payload: JSONValue) -> Result<JSONValue, OCPPRPCError>
    private let state: Mutex<(calls: [(String, JSONValue)], answer: Answer)>

    init(answer: @escaping Answer = FakeCSMS.acceptEverything()) {
        state = Mutex((calls: [], answer: answer))
    }

    func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue {
        let answer = state.withLock { s in
            s.calls.append((action, payload))
            return s.answer
        }
        return try answer(action, payload).get()
    }

    func setAnswer(_ answer: @escaping Answer) { state.withLock { $0.answer = answer } }

    var calls: [(String, JSONValue)] { state.withLock { $0.calls } }
    var actions: [String] { calls.map(\.0) }
    func payloads(_ action: String) -> [JSONValue] { calls.filter { $0.0 == action }.map(\.1) }

    static let time = "2026-01-01T00:00:00Z"

    /// Boot with `boot`, StartTransaction with ids from 100, everything else with an empty answer.
    static func acceptEverything(boot: BootNotificationResponse.RegistrationStatus = .accepted, interval: Int = 300)
        -> Answer
    {
        let nextId = Counter(100)
        return { action, _ in
            switch action {
            case "BootNotification":
                return .success(BootNotificationResponse(status: boot, currentTime: time, interval: interval).toJSON())
            case "StartTransaction":
                let id = nextId.next()
                return .success(StartTransactionResponse(idTagInfo: IdTagInfo(status: .accepted), transactionId: id).toJSON())
            case "Authorize":
                return .success(AuthorizeResponse(idTagInfo: IdTagInfo(status: .accepted)).toJSON())
            case "Heartbeat":
                return .success(HeartbeatResponse(currentTime: time).toJSON())
            default:
                return .success(.object(JSONObject()))
            }
        }
    }
}

/// The station, in memory: a settable snapshot and the commands it was given.
final class FakeStation: OCPP16StationPort {
    private let state: Mutex<(connectors: [OCPP16ConnectorSnapshot], commands: [OCPP16StationCommand])>

    init(connectors: Int = 2) {
        state = Mutex((connectors: (1...connectors).map { OCPP16ConnectorSnapshot(id: $0, status: .available) }, commands: []))
    }

    func connectors() -> [OCPP16ConnectorSnapshot] { state.withLock { $0.connectors } }
    func perform(_ command: OCPP16StationCommand) { state.withLock { $0.commands.append(command) } }

    func update(_ id: Int, _ change: (inout OCPP16ConnectorSnapshot) -> Void) {
        state.withLock { s in
            if let i = s.connectors.firstIndex(where: { $0.id == id }) { change(&s.connectors[i]) }
        }
    }

    var commands: [OCPP16StationCommand] { state.withLock { $0.commands } }

    /// What the next UnlockConnector's lock feedback says; the connectors it was asked for.
    let unlockOutcome = Mutex(UnlockOutcome.unlocked)
    let unlocked = Mutex<[Int]>([])

    func unlock(connectorId: Int) async -> UnlockOutcome {
        unlocked.withLock { $0.append(connectorId) }
        return unlockOutcome.withLock { $0 }
    }
}

/// Sleeps until the test releases them: no wall-clock waiting in tests.
final class ManualSleeper: Sendable {
    private let waiting = Mutex<[(EVSEDuration, CheckedContinuation<Void, Never>)]>([])

    var sleeper: OCPP16ChargePoint.Sleeper {
        { [self] duration in
            await withCheckedContinuation { c in waiting.withLock { $0.append((duration, c)) } }
        }
    }

    var requested: [EVSEDuration] { waiting.withLock { $0.map(\.0) } }

    /// Wakes every sleeper waiting for exactly `duration`.
    func release(_ duration: EVSEDuration) {
        let due = waiting.withLock { w -> [CheckedContinuation<Void, Never>] in
            let due = w.filter { $0.0 == duration }.map(\.1)
            w.removeAll { $0.0 == duration }
            return due
        }
        for c in due { c.resume() }
    }
}

/// Lets the charge point's tasks run until `condition` holds (bounded; no clock involved).
func settle(_ what: String = "condition", _ condition: () async -> Bool) async -> Bool {
    for _ in 0..<20_000 {
        if await condition() { return true }
        await Task.yield()
    }
    return await condition()
}

struct Harness {
    let csms: FakeCSMS
    let station: FakeStation
    let storage: StationStorage
    let sleeper = ManualSleeper()
    /// The wall clock the charge point reads (unix ms); tests move it.
    let clock = ClockBox()
    let chargePoint: OCPP16ChargePoint

    init(csms: FakeCSMS = FakeCSMS(), storage: StationStorage? = nil) throws {
        self.csms = csms
        station = FakeStation()
        let storage = try storage ?? StationStorage(database: Database.inMemory())
        self.storage = storage
        let clock = clock
        chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test", serialNumber: "S1"),
                                        sender: csms, station: station, storage: storage, numberOfConnectors: 2,
                                        unixMs: { clock.now() }, sleep: sleeper.sleeper)
    }

    /// A session as the station's recorder writes it (the journal holds the session row).
    func beginSession(_ id: String, connector: Int = 1, token: String = "CARD1", meterStartWh: Double = 1_000) throws -> Session {
        let session = Session(id: id, connectorId: connector, idToken: IdToken(token), startReason: .local,
                              meterStartWh: meterStartWh, startedAtUnixMs: 1_767_225_600_000)
        _ = try storage.journal.beginSession(SessionStart(id: id, connectorId: connector, idToken: token, state: "Charging",
                                                          startedAtMs: 1_767_225_600_000, meterStartWh: meterStartWh))
        return session
    }

    /// What the station does for a session start: the journal change and its StartTransaction
    /// in one transaction, then the event.
    func sessionStarted(_ session: Session) throws {
        try chargePoint.transactions.record(.started(session))
        chargePoint.stationEvent(.sessionStarted(session))
    }

    /// What the station does for a session end: the journal's end (for a session it holds) and
    /// the StopTransaction in one transaction, then the event.
    func sessionEnded(_ session: Session) throws {
        try storage.journal.atomically { w in
            if let record = try w.session(session.id), record.isOpen {
                try w.endSession(session.id, stopReason: session.stopReason?.rawValue ?? "Local",
                                 meterStopWh: session.meterStopWh ?? session.lastKnownEnergyWh,
                                 atMs: Int64(session.stoppedAtUnixMs ?? session.startedAtUnixMs))
            }
            try chargePoint.transactions.messagesOwed(for: .ended(session), in: w)
        }
        chargePoint.stationEvent(.sessionEnded(session))
    }
}

/// A settable wall clock: 2026-01-01T00:00:00Z until a test moves it.
final class ClockBox: Sendable {
    private let value = Mutex<UInt64>(1_767_225_600_000)
    func now() -> UInt64 { value.withLock { $0 } }
    func set(_ unixMs: UInt64) { value.withLock { $0 = unixMs } }
    func advance(seconds: UInt64) { value.withLock { $0 += seconds * 1_000 } }
}

final class Counter: Sendable {
    private let value: Mutex<Int>
    init(_ start: Int) { value = Mutex(start) }
    func next() -> Int { value.withLock { n in n += 1; return n } }
}
