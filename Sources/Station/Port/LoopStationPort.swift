import ChargingCore
import HAL
import StationPort
import Locking
import Synchronization

/// The station's side of the `StationPort`: requests wait in a queue until the loop serves them
/// between two steps (`serve(at:)`), where the core decides and the caller is answered; the
/// commands of the connectors' machines become `events`.
///
/// Thread use: `request`, `submit` and `events` from any thread; `serve` and everything it
/// touches (the station, the authorizations waiting for the backend, the unlocks waiting for
/// their lock) only on the loop's thread.
public final class LoopStationPort: StationPort {
    public let events: AsyncStream<StationEvent>
    private let emit: AsyncStream<StationEvent>.Continuation

    private struct Pending: Sendable {
        var request: StationRequest
        var answer: CheckedContinuation<StationAnswer, Never>?
    }
    private let pending = Mutex<[Pending]>([])
    private let online = Atomic<Bool>(false)

    /// Loop-confined (see the type's note).
    nonisolated(unsafe) private let station: Station
    nonisolated(unsafe) private var authorizing: [String: Int] = [:]
    nonisolated(unsafe) private var unlocks: [UnlockWaiter] = []
    private let restart: @Sendable (_ hard: Bool) -> Void
    /// The station's wake-up (Sendable, unlike the station): every request signals it.
    private let wakeUp: LoopWakeUp

    /// A running session's stop, the contactor opening and the lock's travel all fit well inside
    /// this.
    static let unlockPatience = EVSEDuration.seconds(Int64(5))

    private struct UnlockWaiter {
        let connectorId: Int
        let deadline: MonotonicInstant
        let answer: CheckedContinuation<StationAnswer, Never>?
    }

    /// Takes over the station's command observer and authorization backend. Call before
    /// `Station.start`, so the recovery's commands become events too. `restart` is called on the
    /// loop when a backend asks for a restart (the daemon ends the loop and restarts).
    public init(station: Station, restart: @escaping @Sendable (_ hard: Bool) -> Void) {
        self.station = station
        self.wakeUp = station.wake
        self.restart = restart
        (events, emit) = AsyncStream.makeStream(of: StationEvent.self)
        station.commandObserver = { [unowned self] id, command in self.observe(id, command) }
        station.useAuthorizationBackend(PortAuthorizationBackend(port: self), online: true)
        station.meterObserver = { [emit] id, sample in emit.yield(.meterSample(connectorId: id, sample)) }
        station.localLimitObserver = { [emit] id, amps in emit.yield(.localChargingLimit(connectorId: id, amps: amps)) }
    }

    // Both wake the loop: a request is served at once, not at the loop's next timer.
    public func request(_ request: StationRequest) async -> StationAnswer {
        await withCheckedContinuation { answer in
            pending.locked { $0.append(Pending(request: request, answer: answer)) }
            wakeUp.signal()
        }
    }

    public func submit(_ request: StationRequest) {
        pending.locked { $0.append(Pending(request: request, answer: nil)) }
        wakeUp.signal()
    }

    /// When the loop must serve again without a new request: the earliest unlock that gives up
    /// waiting for its lock. Loop thread only.
    public var nextDeadline: MonotonicInstant? { unlocks.map(\.deadline).min() }

    var backendOnline: Bool { online.load(ordering: .relaxed) }

    // MARK: On the loop

    /// After a step: answers the requests that arrived, in order, and the unlocks whose lock
    /// has moved (or that waited long enough).
    public func serve(at now: MonotonicInstant) {
        let taken = pending.locked { p in defer { p.removeAll() }; return p }
        for p in taken {
            let answer = handle(p.request, at: now, answer: p.answer)
            if let answer { p.answer?.resume(returning: answer) }
        }
        settleUnlocks(at: now)
    }

    /// The answer now, or nil when it comes later (an unlock waits for its lock).
    private func handle(_ request: StationRequest, at now: MonotonicInstant,
                        answer: CheckedContinuation<StationAnswer, Never>?) -> StationAnswer? {
        switch request {
        case .connectors:
            return .connectors(station.snapshots)
        case let .remoteStart(id, token, parent):
            return .remoteStart(station.remoteStart(connector: id, idToken: token, parentIdToken: parent, at: now)
                .map { .accepted(connectorId: $0) } ?? .rejected)
        case let .remoteStartCheck(id, token, parent):
            return .remoteStart(station.remoteStart(connector: id, idToken: token, parentIdToken: parent, dryRun: true, at: now)
                .map { .accepted(connectorId: $0) } ?? .rejected)
        case let .stopSession(id, session, reason):
            return station.stopSession(connector: id, sessionId: session, reason: reason, at: now) ? .accepted : .rejected
        case let .deauthorizeSession(id, session, allowance):
            return station.deauthorizeSession(connector: id, sessionId: session, energyAllowanceWh: Double(allowance), at: now)
                ? .accepted : .rejected
        case let .stopAllSessions(reason):
            station.stopAllSessions(reason: reason, at: now)
            return .accepted
        case let .reserve(r):
            return .reservation(station.reserve(connector: r.connectorId, reservationId: r.reservationId, idToken: r.idToken,
                                                parentIdToken: r.parentIdToken, expiresAtUnixMs: r.expiresAtUnixMs, at: now))
        case let .cancelReservation(id):
            return station.cancelReservation(id: id, at: now) ? .accepted : .rejected
        case let .unlock(id):
            guard let view = station.connector(id), view.hasLock else { return .unlock(.notSupported) }
            station.unlockConnector(id, at: now)
            unlocks.append(UnlockWaiter(connectorId: id, deadline: now + Self.unlockPatience, answer: answer))
            return nil
        case let .changeAvailability(id, operative):
            return .availability(station.setAvailability(connector: id, operative: operative, at: now))
        case let .authorizationResult(token, info):
            guard let id = authorizing.removeValue(forKey: token.value) else { return .rejected }
            station.authorizationAnswered(token, info, connector: id, at: now)
            return .accepted
        case let .authorizationLearned(token, info):
            station.rememberAuthorization(token, info)
            return .accepted
        case .clearAuthorizationCache:
            station.clearAuthorizationCache()
            return .accepted
        case let .chargingProfiles(profiles):
            station.installChargingProfiles(profiles)
            return .accepted
        case let .backendConnection(isOnline):
            online.store(isOnline, ordering: .relaxed)
            return .accepted
        case let .authorizationRules(rules):
            station.apply(rules)
            return .accepted
        case let .sessionRules(rules):
            station.apply(rules, at: now)
            return .accepted
        case let .restart(hard):
            restart(hard)
            return .accepted
        case let .centralSystemTime(unixMs):
            station.adoptCentralSystemTime(unixMs)
            return .accepted
        case let .showPrice(update):
            station.showPrice(update, at: now)
            return .accepted
        case let .showMessage(message):
            station.showMessage(message, at: now)
            return .accepted
        case let .removeMessage(id):
            return station.removeMessage(id: id, at: now) ? .accepted : .rejected
        case let .setChargingMode(mode):
            switch station.setChargingMode(mode, at: now) {
            case .changed, .unchanged: return .accepted
            case .noGridMeter, .notStored: return .rejected
            }
        }
    }

    private func settleUnlocks(at now: MonotonicInstant) {
        guard !unlocks.isEmpty else { return }
        unlocks.removeAll { w in
            let view = station.connector(w.connectorId)
            let outcome: UnlockOutcome?
            switch view?.lock {
            case .unlocked where view?.session == nil: outcome = .unlocked
            case .fault: outcome = .unlockFailed
            default: outcome = now >= w.deadline ? .unlockFailed : nil
            }
            guard let outcome else { return false }
            w.answer?.resume(returning: .unlock(outcome))
            return true
        }
    }

    /// A machine's command, once handled, as the backend hears of it.
    private func observe(_ connectorId: Int, _ command: ConnectorCommand) {
        switch command {
        case let .statusChanged(status, error):
            emit.yield(.statusChanged(connectorId: connectorId, status, error, atUnixMs: station.wallClock.unixMilliseconds()))
        case let .sessionStarted(session):
            emit.yield(.sessionStarted(session))
        case let .sessionEnded(session):
            emit.yield(.sessionEnded(session))
        case let .persist(.preludeBegan(p)):
            emit.yield(.preludeChanged(connectorId: connectorId, p))
        case .persist(.preludeEnded):
            emit.yield(.preludeChanged(connectorId: connectorId, nil))
        case let .persist(.sampled(id, _)):
            if let session = station.connector(connectorId)?.session, session.id == id { emit.yield(.sessionUpdated(session)) }
        case let .authorize(token):
            authorizing[token.value] = connectorId
        case let .reservationEnded(id, reason):
            emit.yield(.reservationEnded(id: id, reason))
        default:
            break
        }
    }

    fileprivate func authorizationNeeded(_ token: IdToken) {
        emit.yield(.authorizationNeeded(token))
    }
}

/// The core's authorization backend behind the port: a token the policy sends to the backend
/// becomes an `.authorizationNeeded` event; the answer comes back as `.authorizationResult`.
private final class PortAuthorizationBackend: AuthorizationBackend {
    unowned let port: LoopStationPort
    init(port: LoopStationPort) { self.port = port }
    var isOnline: Bool { port.backendOnline }
    func requestAuthorization(for idToken: IdToken) -> BackendAuthorizationReply {
        port.authorizationNeeded(idToken)
        return .pending
    }
}
