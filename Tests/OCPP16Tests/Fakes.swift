import TestSupport
import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization

/// The CSMS side of the RPC, in memory: records every CALL and answers with `answer`.
final class FakeCSMS: OCPP16CallSender {
    typealias Answer = @Sendable (_ action: String, _ payload: JSONValue) -> Result<JSONValue, OCPPRPCError>
    private let state: Mutex<(calls: [(String, JSONValue)], answer: Answer)>

    init(answer: @escaping Answer = FakeCSMS.acceptEverything()) {
        state = Mutex((calls: [], answer: answer))
    }

    func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue {
        let answer = state.locked { s in
            s.calls.append((action, payload))
            return s.answer
        }
        return try answer(action, payload).get()
    }

    func setAnswer(_ answer: @escaping Answer) { state.locked { $0.answer = answer } }

    var calls: [(String, JSONValue)] { state.locked { $0.calls } }
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

/// The station, in memory, behind the port: a settable snapshot, every request it was given,
/// and answers as simple as a station's (a free connector takes a remote start, a connector with
/// a session schedules an availability change).
final class FakeStation: StationPort {
    private let state: Mutex<(connectors: [ConnectorSnapshot], requests: [StationRequest])>
    let events: AsyncStream<StationEvent>
    private let emit: AsyncStream<StationEvent>.Continuation

    init(connectors: Int = 2) {
        state = Mutex((connectors: (1...connectors).map { ConnectorSnapshot(id: $0, status: .available) }, requests: []))
        (events, emit) = AsyncStream.makeStream(of: StationEvent.self)
    }

    func connectorsNow() -> [ConnectorSnapshot] { state.locked { $0.connectors } }

    func update(_ id: Int, _ change: (inout ConnectorSnapshot) -> Void) {
        state.locked { s in
            if let i = s.connectors.firstIndex(where: { $0.id == id }) { change(&s.connectors[i]) }
        }
    }

    /// Every request, queries included.
    var requests: [StationRequest] { state.locked { $0.requests } }

    /// What the station was asked to do: the requests less the queries, the connection state, the CSMS's time,
    /// the rules and the display's prices (which the charge point sends on its own).
    var commands: [StationRequest] {
        requests.filter {
            switch $0 {
            case .connectors, .backendConnection, .centralSystemTime, .authorizationRules, .sessionRules, .remoteStartCheck, .showPrice: return false
            default: return true
            }
        }
    }

    /// What the next UnlockConnector's lock feedback says; the connectors it was asked for.
    let unlockOutcome = Mutex(UnlockOutcome.unlocked)
    let unlocked = Mutex<[Int]>([])
    /// What the next ReserveNow gets.
    let reservationAnswer = Mutex<ReservationAnswer?>(.accepted)

    func submit(_ request: StationRequest) { _ = answer(request) }

    func request(_ request: StationRequest) async -> StationAnswer { answer(request) }

    private func answer(_ request: StationRequest) -> StationAnswer {
        let connectors = state.locked { s in
            s.requests.append(request)
            return s.connectors
        }
        func free(_ id: Int?) -> Int? {
            let candidates = id.map { wanted in connectors.filter { $0.id == wanted } } ?? connectors
            return candidates.first { $0.session == nil && $0.status != .unavailable && $0.status != .faulted }?.id
        }
        switch request {
        case .connectors:
            return .connectors(connectors)
        case let .remoteStart(id, _, _), let .remoteStartCheck(id, _, _):
            return .remoteStart(free(id).map { .accepted(connectorId: $0) } ?? .rejected)
        case let .stopSession(id, session, _):
            return connectors.contains { $0.id == id && $0.session?.id == session } ? .accepted : .rejected
        case .reserve:
            return .reservation(reservationAnswer.locked { $0 })
        case .cancelReservation:
            return .rejected
        case let .unlock(id):
            unlocked.locked { $0.append(id) }
            return .unlock(unlockOutcome.locked { $0 })
        case let .changeAvailability(id, operative):
            let targets = id == 0 ? connectors : connectors.filter { $0.id == id }
            guard !targets.isEmpty else { return .availability(nil) }
            return .availability(!operative && targets.contains { $0.session != nil } ? .scheduled : .accepted)
        default:
            return .accepted
        }
    }

    /// An event, as the station's loop would emit it.
    func emit(_ event: StationEvent) { emit.yield(event) }
}

/// Sleeps until the test releases them: no wall-clock waiting in tests.
final class ManualSleeper: Sendable {
    private let waiting = Mutex<[(EVSEDuration, CheckedContinuation<Void, Never>)]>([])

    var sleeper: OCPP16ChargePoint.Sleeper {
        { [self] duration in
            await withCheckedContinuation { c in waiting.locked { $0.append((duration, c)) } }
        }
    }

    var requested: [EVSEDuration] { waiting.locked { $0.map(\.0) } }

    /// Wakes every sleeper waiting for exactly `duration`.
    func release(_ duration: EVSEDuration) {
        let due = waiting.locked { w -> [CheckedContinuation<Void, Never>] in
            let due = w.filter { $0.0 == duration }.map(\.1)
            w.removeAll { $0.0 == duration }
            return due
        }
        for c in due { c.resume() }
    }
}

/// Lets the charge point's tasks run until `condition` holds (`eventually`: its actor runs on
/// an event loop thread, not on the pool this test yields on).
func settle(_ what: String = "condition", _ condition: () async -> Bool) async -> Bool {
    await eventually(condition)
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
    func now() -> UInt64 { value.locked { $0 } }
    func set(_ unixMs: UInt64) { value.locked { $0 = unixMs } }
    func advance(seconds: UInt64) { value.locked { $0 += seconds * 1_000 } }
}

final class Counter: Sendable {
    private let value: Mutex<Int>
    init(_ start: Int) { value = Mutex(start) }
    func next() -> Int { value.locked { n in n += 1; return n } }
}
