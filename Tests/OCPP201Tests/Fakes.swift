import TestSupport
import ChargingCore
import FirmwareUpdate
import HAL
import LogUpload
import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization

/// The CSMS side of the RPC, in memory: records every CALL and answers with `answer`.
final class FakeCSMS: OCPP201CallSender {
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

    /// Boot with `boot`, Authorize with `token` status, everything else with its empty answer.
    static func acceptEverything(boot: BootNotificationResponse.RegistrationStatusEnumType = .accepted, interval: Int = 300,
                                 token: AuthorizationStatusEnumType = .accepted) -> Answer {
        { action, _ in
            switch action {
            case "BootNotification":
                return .success(BootNotificationResponse(currentTime: time, interval: interval, status: boot).toJSON())
            case "Authorize":
                return .success(AuthorizeResponse(idTokenInfo: IdTokenInfoType(status: token)).toJSON())
            case "Heartbeat":
                return .success(HeartbeatResponse(currentTime: time).toJSON())
            default:
                return .success(.object(JSONObject()))
            }
        }
    }
}

/// The station, in memory, behind the port: a settable snapshot, every request it was given,
/// and answers as simple as a station's.
final class FakeStation: StationPort {
    private let state: Mutex<(connectors: [ConnectorSnapshot], requests: [StationRequest])>
    let events: AsyncStream<StationEvent>
    private let emit: AsyncStream<StationEvent>.Continuation
    let unlockOutcome = Mutex(UnlockOutcome.unlocked)
    let reservationAnswer = Mutex<ReservationAnswer?>(.accepted)

    init(connectors: Int = 2) {
        state = Mutex((connectors: (1...connectors).map { ConnectorSnapshot(id: $0, status: .available) }, requests: []))
        (events, emit) = AsyncStream.makeStream(of: StationEvent.self)
    }

    func update(_ id: Int, _ change: (inout ConnectorSnapshot) -> Void) {
        state.locked { s in
            if let i = s.connectors.firstIndex(where: { $0.id == id }) { change(&s.connectors[i]) }
        }
    }

    var requests: [StationRequest] { state.locked { $0.requests } }

    /// What the station was asked to do: the requests less the queries, the connection state and the rules.
    var commands: [StationRequest] {
        requests.filter {
            switch $0 {
            case .connectors, .backendConnection, .centralSystemTime, .authorizationRules, .sessionRules, .remoteStartCheck: return false
            default: return true
            }
        }
    }

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
            return connectors.contains { $0.id == id && ($0.session?.id == session || $0.prelude?.id == session) } ? .accepted : .rejected
        case .reserve:
            return .reservation(reservationAnswer.locked { $0 })
        case let .cancelReservation(id):
            return connectors.contains { $0.reservationId == id } ? .accepted : .rejected
        case .unlock:
            return .unlock(unlockOutcome.locked { $0 })
        case let .changeAvailability(id, operative):
            let targets = id == 0 ? connectors : connectors.filter { $0.id == id }
            guard !targets.isEmpty else { return .availability(nil) }
            return .availability(!operative && targets.contains { $0.session != nil } ? .scheduled : .accepted)
        default:
            return .accepted
        }
    }

    func emit(_ event: StationEvent) { emit.yield(event) }
}

/// Sleeps until the test releases them: no wall-clock waiting in tests.
final class ManualSleeper: Sendable {
    private let waiting = Mutex<[(EVSEDuration, CheckedContinuation<Void, Never>)]>([])

    var sleeper: OCPP201ChargingStation.Sleeper {
        { [self] duration in
            await withCheckedContinuation { c in waiting.locked { $0.append((duration, c)) } }
        }
    }

    var requested: [EVSEDuration] { waiting.locked { $0.map(\.0) } }

    func release(_ duration: EVSEDuration) {
        let due = waiting.locked { w -> [CheckedContinuation<Void, Never>] in
            let due = w.filter { $0.0 == duration }.map(\.1)
            w.removeAll { $0.0 == duration }
            return due
        }
        for c in due { c.resume() }
    }
}

/// Lets the station's tasks run until `condition` holds (`eventually`: its actor runs on an
/// event loop thread, not on the pool this test yields on).
func settle(_ condition: () async -> Bool) async -> Bool {
    await eventually(condition)
}

/// A settable wall clock: 2026-01-01T00:00:00Z until a test moves it.
final class ClockBox: Sendable {
    private let value: Mutex<UInt64>
    init(unixMs: UInt64 = 1_767_225_600_000) { value = Mutex(unixMs) }
    func now() -> UInt64 { value.locked { $0 } }
    func advance(seconds: UInt64) { value.locked { $0 += seconds * 1_000 } }
}

struct Harness {
    let csms: FakeCSMS
    let station: FakeStation
    let storage: StationStorage
    let sleeper = ManualSleeper()
    let clock: ClockBox
    let chargingStation: OCPP201ChargingStation

    init(csms: FakeCSMS = FakeCSMS(), settings: OCPP201Settings = OCPP201Settings(), storage: StationStorage? = nil,
         deviceModel: DeviceModel? = nil, pki: OCPP201PKI? = nil, securityProfile: Int = 0, clock: ClockBox = ClockBox(),
         firmware: FirmwareUpdateSettings? = nil, uploads: UploadSettings? = nil) throws {
        self.csms = csms
        self.clock = clock
        station = FakeStation()
        let storage = try storage ?? StationStorage(database: Database.inMemory())
        self.storage = storage
        let clock = clock
        chargingStation = OCPP201ChargingStation(identity: .init(vendor: "SwiftEVSE", model: "Test", serialNumber: "S1"),
                                                 sender: csms, station: station, storage: storage, settings: settings,
                                                 unixMs: { clock.now() }, sleep: sleeper.sleeper, deviceModel: deviceModel,
                                                 pki: pki, securityProfile: securityProfile, firmware: firmware, uploads: uploads)
    }

    /// Started, connected and accepted.
    static func accepted(csms: FakeCSMS = FakeCSMS(), settings: OCPP201Settings = OCPP201Settings(),
                         storage: StationStorage? = nil, deviceModel: DeviceModel? = nil, pki: OCPP201PKI? = nil,
                         securityProfile: Int = 0, clock: ClockBox = ClockBox(),
                         firmware: FirmwareUpdateSettings? = nil, uploads: UploadSettings? = nil) async throws -> Harness {
        let h = try Harness(csms: csms, settings: settings, storage: storage, deviceModel: deviceModel, pki: pki,
                            securityProfile: securityProfile, clock: clock, firmware: firmware, uploads: uploads)
        await h.chargingStation.start()
        h.chargingStation.connectionUp()
        _ = await settle { await h.chargingStation.registration == .accepted }
        return h
    }

    /// A session as the station's recorder writes it: the journal row and its Started event in
    /// one transaction, the snapshot, then the event.
    func sessionStarted(_ id: String, connector: Int = 1, token: String = "CARD1", reason: SessionStartReason = .local,
                        meterStartWh: Double = 1_000, cableMaxCurrentA: Double? = nil,
                        preludeCause: SessionPrelude.Cause? = nil) throws -> Session {
        var session = Session(id: id, connectorId: connector, idToken: IdToken(token), startReason: reason,
                              meterStartWh: meterStartWh, startedAtUnixMs: clock.now())
        session.cableMaxCurrentA = cableMaxCurrentA
        session.preludeCause = preludeCause
        try storage.journal.atomically { w in
            _ = try w.beginSession(SessionStart(id: id, connectorId: connector, idToken: token, state: "Charging",
                                                startedAtMs: Int64(clock.now()), meterStartWh: meterStartWh))
            try chargingStation.transactions.messagesOwed(for: .started(session), in: w)
        }
        station.update(connector) { $0.session = session; $0.prelude = nil; $0.status = .charging; $0.energyWh = meterStartWh }
        chargingStation.stationEvent(.sessionStarted(session))
        return session
    }

    /// A prelude as the station's recorder writes it: the journal row and its messages in one
    /// transaction, then the snapshot.
    @discardableResult
    func preludeBegan(_ id: String, connector: Int = 1, cause: SessionPrelude.Cause, token: IdToken? = nil,
                      reason: SessionStartReason? = nil, meterWh: Double? = 1_000) throws -> SessionPrelude {
        let p = SessionPrelude(id: id, connectorId: connector, cause: cause, idToken: token, startReason: reason,
                               beganAtUnixMs: clock.now(), meterWh: meterWh)
        try storage.journal.atomically { w in
            try w.beginPrelude(SessionPreludeRecord(sessionId: id, connectorId: connector, cause: cause.rawValue,
                                                    idToken: token?.value, beganAtMs: Int64(clock.now()), meterWh: meterWh))
            try chargingStation.transactions.messagesOwed(for: .preludeBegan(p), in: w)
        }
        station.update(connector) { $0.prelude = p; $0.status = .preparing; $0.vehicleConnected = cause == .evConnected }
        chargingStation.stationEvent(.preludeChanged(connectorId: connector, p))
        return p
    }

    func preludeEnded(_ p: SessionPrelude, reason: StopReason, meterWh: Double? = 1_000) throws {
        try storage.journal.atomically { w in
            try w.endPrelude(sessionId: p.id)
            try chargingStation.transactions.messagesOwed(
                for: .preludeEnded(p, SessionPreludeEnd(reason: reason, atUnixMs: clock.now(), meterWh: meterWh)), in: w)
        }
        station.update(p.connectorId) { $0.prelude = nil; $0.status = .available; $0.vehicleConnected = false }
        chargingStation.stationEvent(.preludeChanged(connectorId: p.connectorId, nil))
    }

    func sessionEnded(_ session: Session, reason: StopReason = .local, meterStopWh: Double = 1_500) throws {
        var ended = session
        ended.end(reason: reason, meterStopWh: meterStopWh, atUnixMs: clock.now())
        try storage.journal.atomically { w in
            _ = try w.endSession(ended.id, stopReason: reason.rawValue, meterStopWh: meterStopWh, atMs: Int64(clock.now()))
            try chargingStation.transactions.messagesOwed(for: .ended(ended), in: w)
        }
        station.update(session.connectorId) { $0.session = nil; $0.status = .finishing }
        chargingStation.stationEvent(.sessionEnded(ended))
    }
}

func errorCode(_ result: Result<JSONValue, OCPPCallError>) -> OCPPErrorCode? {
    if case .failure(let e) = result { return e.code }
    return nil
}

extension JSONValue {
    /// The array element at `index`, or nil.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
