import HAL
import Locking
import Synchronization

public struct RCDSelfTestConfig: Hashable, Sendable {
    /// The module must trip within this time after the test output is driven.
    public var tripTimeout: EVSEDuration
    /// After the test output is released, the trip must clear within this time.
    public var clearTimeout: EVSEDuration

    public init(tripTimeout: EVSEDuration = .milliseconds(500), clearTimeout: EVSEDuration = .milliseconds(1_000)) {
        self.tripTimeout = tripTimeout
        self.clearTimeout = clearTimeout
    }
}

public enum RCDSelfTestFailure: String, Hashable, Sendable {
    /// The module did not trip while the test current flowed.
    case didNotTrip
    /// The module stayed tripped after the test current stopped.
    case didNotClear
    /// The module was already tripped when the test was asked to start.
    case alreadyTripped
}

public enum RCDSelfTestPhase: Hashable, Sendable {
    case idle
    case awaitingTrip(since: MonotonicInstant)
    case awaitingClear(since: MonotonicInstant)
    case passed(at: MonotonicInstant)
    case failed(RCDSelfTestFailure, at: MonotonicInstant)

    public var isRunning: Bool {
        switch self {
        case .awaitingTrip, .awaitingClear: return true
        default: return false
        }
    }
}

/// The self-test of a residual-current module that has a test input: drive the test output,
/// expect the trip within `tripTimeout`, release it, expect the trip to clear within
/// `clearTimeout`. A small state machine advanced by `poll(at:)`; it reads the trip line
/// through the module's `FaultInput` (undebounced, polarity applied).
///
/// While the test runs, that fault input reports the trip like any other: the owner ignores
/// RCD faults while `phase.isRunning` (and keeps the contactor open, as a test requires).
public final class RCDSelfTest: Sendable {
    public let config: RCDSelfTestConfig
    private let testOutput: any GPIOLine
    private let rcd: FaultInput
    private let state = Mutex(RCDSelfTestPhase.idle)

    public init(config: RCDSelfTestConfig, testOutput: any GPIOLine, rcd: FaultInput) {
        self.config = config
        self.testOutput = testOutput
        self.rcd = rcd
    }

    public var phase: RCDSelfTestPhase { state.locked { $0 } }

    /// Starts the test. A module that already reads tripped fails the test at once.
    @discardableResult
    public func start(at now: MonotonicInstant) throws -> RCDSelfTestPhase {
        let tripped = try rcd.readRaw()
        if tripped {
            state.locked { $0 = .failed(.alreadyTripped, at: now) }
            return .failed(.alreadyTripped, at: now)
        }
        try testOutput.write(true)
        state.locked { $0 = .awaitingTrip(since: now) }
        return .awaitingTrip(since: now)
    }

    /// Releases the test output and goes idle (e.g. when the owner gives up).
    public func cancel() throws {
        state.locked { $0 = .idle }
        try testOutput.write(false)
    }

    @discardableResult
    public func poll(at now: MonotonicInstant) throws -> RCDSelfTestPhase {
        let current = phase
        switch current {
        case let .awaitingTrip(since):
            let tripped = try rcd.readRaw()
            if tripped {
                try testOutput.write(false)
                state.locked { $0 = .awaitingClear(since: now) }
            } else if now - since > config.tripTimeout {
                try testOutput.write(false)
                state.locked { $0 = .failed(.didNotTrip, at: now) }
            }
        case let .awaitingClear(since):
            let tripped = try rcd.readRaw()
            if !tripped {
                state.locked { $0 = .passed(at: now) }
            } else if now - since > config.clearTimeout {
                state.locked { $0 = .failed(.didNotClear, at: now) }
            }
        case .idle, .passed, .failed:
            break
        }
        return phase
    }
}
