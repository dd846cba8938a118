import ChargingCore
import Drivers
import HAL

/// Drives a connector machine on explicit instants and keeps what the station would see.
struct ConnectorHarness {
    var machine: ConnectorStateMachine
    var now: MonotonicInstant = MonotonicInstant(microseconds: 1_000_000)
    var log: [ConnectorCommand] = []
    /// The contactor as the commands left it.
    var contactorClosed = false
    var pilotCommand: PilotCommand?
    static let epochMs: UInt64 = 1_767_225_600_000

    init(_ config: ConnectorConfig = ConnectorConfig(fixedCableAmps: 32), operative: Bool = true) {
        machine = ConnectorStateMachine(connectorId: 1, config: config, operative: operative)
    }

    var unixMs: UInt64 { Self.epochMs + now.microseconds / 1_000 }

    @discardableResult
    mutating func send(_ event: ConnectorEvent) -> [ConnectorCommand] {
        let out = machine.handle(event, at: now, unixMs: unixMs)
        record(out)
        return out
    }

    mutating func record(_ out: [ConnectorCommand]) {
        for c in out {
            switch c {
            case .closeContactor: contactorClosed = true
            case .openContactor: contactorClosed = false
            case let .setPilot(p): pilotCommand = p
            default: break
            }
        }
        log += out
    }

    /// Moves time forward, ticking at every deadline on the way (as the station's loop does).
    mutating func advance(_ d: EVSEDuration) {
        let target = now + d
        while let deadline = machine.nextDeadline(), deadline <= target {
            now = max(now, deadline)
            send(.tick)
        }
        now = target
    }

    var status: ConnectorStatus? { machine.status }

    /// Plug in with a fresh meter reading and authorize a card: returns the session.
    @discardableResult
    mutating func startSession(token: IdToken = IdToken("CARD1"), pilot: CPState = .b) -> Session? {
        send(.meterSample(MeterSample(energyWh: 1_000)))
        send(.pilotChanged(pilot))
        send(.authorizationRequested(token))
        send(.authorizationResult(token, .accepted))
        if machine.config.lockRequired { send(.lockConfirmed) }
        return machine.session
    }
}

extension Array where Element == ConnectorCommand {
    func index(where match: (ConnectorCommand) -> Bool) -> Int? { firstIndex(where: match) }

    var startedSessions: [Session] { compactMap { if case let .sessionStarted(s) = $0 { return s } else { return nil } } }
    var endedSessions: [Session] { compactMap { if case let .sessionEnded(s) = $0 { return s } else { return nil } } }
    var statuses: [ConnectorStatus] { compactMap { if case let .statusChanged(s, _) = $0 { return s } else { return nil } } }
    var closes: Bool { contains(.closeContactor) }
    var opens: Bool { contains { if case .openContactor = $0 { return true } else { return false } } }
    var openReason: ContactorOpenReason? {
        for c in self { if case let .openContactor(r) = c { return r } }
        return nil
    }
    var persistedEnd: Int? { firstIndex { if case .persist(.ended) = $0 { return true } else { return false } } }
    var persistedStart: Int? { firstIndex { if case .persist(.started) = $0 { return true } else { return false } } }
}

