import HAL
import Locking
import Synchronization

public enum FaultKind: String, Hashable, Sendable, CaseIterable {
    /// Residual-current device (type A/B RCD or RDC-DD module) tripped.
    case rcd
    /// 6 mA DC residual-current monitor tripped.
    case dcResidual
    case emergencyStop
    case overTemperature
}

public enum FaultPolarity: String, Hashable, Sendable {
    /// Logical 1 on the line means the fault is present.
    case activeHigh = "active-high"
    /// Logical 0 means the fault is present (normally-closed chains such as an e-stop loop,
    /// where a broken wire must read as a fault).
    case activeLow = "active-low"
}

public struct FaultInputConfig: Hashable, Sendable {
    public var kind: FaultKind
    /// Applied on top of the line's logical value. A board should state inversion in one
    /// place only: either the GPIO line's active-low flag or this.
    public var polarity: FaultPolarity
    /// The line must read active this long before the fault is reported…
    public var debounce: EVSEDuration
    /// …and inactive this long before it is cleared.
    public var releaseDebounce: EVSEDuration

    public init(kind: FaultKind, polarity: FaultPolarity = .activeHigh,
                debounce: EVSEDuration = .milliseconds(10), releaseDebounce: EVSEDuration? = nil) {
        self.kind = kind
        self.polarity = polarity
        self.debounce = debounce
        self.releaseDebounce = releaseDebounce ?? debounce
    }
}

public struct ActiveFault: Hashable, Sendable, CustomStringConvertible {
    public var kind: FaultKind
    /// The first poll that saw the line active (start of the debounce run).
    public var since: MonotonicInstant
    /// The poll that confirmed it.
    public var confirmedAt: MonotonicInstant

    public init(kind: FaultKind, since: MonotonicInstant, confirmedAt: MonotonicInstant) {
        self.kind = kind
        self.since = since
        self.confirmedAt = confirmedAt
    }

    public var description: String { "\(kind.rawValue) active since \(since)" }
}

/// One fault input line with polarity and debounce.
public final class FaultInput: Sendable {
    public let config: FaultInputConfig
    private let line: any GPIOLine

    private struct State {
        var rawActive: Bool?
        var rawSince: MonotonicInstant = .zero
        var active: ActiveFault?
    }
    private let state = Mutex(State())

    public init(config: FaultInputConfig, line: any GPIOLine) {
        self.config = config
        self.line = line
    }

    public var kind: FaultKind { config.kind }

    /// The line's level with polarity applied, undebounced.
    public func readRaw() throws -> Bool {
        let level = try line.read()
        return config.polarity == .activeHigh ? level : !level
    }

    /// Samples the line; returns the debounced fault while active.
    @discardableResult
    public func poll(at now: MonotonicInstant) throws -> ActiveFault? {
        let raw = try readRaw()
        return state.locked { s in
            if s.rawActive != raw {
                s.rawActive = raw
                s.rawSince = now
            }
            if raw, s.active == nil, now - s.rawSince >= config.debounce {
                s.active = ActiveFault(kind: config.kind, since: s.rawSince, confirmedAt: now)
            } else if !raw, s.active != nil, now - s.rawSince >= config.releaseDebounce {
                s.active = nil
            }
            return s.active
        }
    }

    public var activeFault: ActiveFault? { state.locked { $0.active } }

    /// While the raw level disagrees with the debounced fault, the instant its debounce time
    /// ends: the input must be sampled again then (nil: settled). Before the first sample: now.
    public func settlesAt(after now: MonotonicInstant) -> MonotonicInstant? {
        state.locked { s in
            guard let raw = s.rawActive else { return now }
            guard raw != (s.active != nil) else { return nil }
            return max(now, s.rawSince + (raw ? config.debounce : config.releaseDebounce))
        }
    }
}

/// All fault inputs of a board (or connector), polled together.
public final class FaultInputs: Sendable {
    public let inputs: [FaultInput]

    public init(inputs: [FaultInput]) { self.inputs = inputs }

    public func input(_ kind: FaultKind) -> FaultInput? { inputs.first { $0.kind == kind } }

    /// The earliest instant an input's debounce ends (nil: all settled).
    public func settlesAt(after now: MonotonicInstant) -> MonotonicInstant? {
        inputs.compactMap { $0.settlesAt(after: now) }.min()
    }

    /// Polls every input, even when one fails, and returns the faults active now. A line that
    /// cannot be read is itself reported as that fault (fail safe) and its error is returned
    /// in `readErrors`.
    public func poll(at now: MonotonicInstant) -> FaultScan {
        var active: [ActiveFault] = []
        var errors: [FaultKind: HardwareError] = [:]
        for input in inputs {
            do {
                if let f = try input.poll(at: now) { active.append(f) }
            } catch let error as HardwareError {
                errors[input.kind] = error
                active.append(ActiveFault(kind: input.kind, since: now, confirmedAt: now))
            } catch {
                errors[input.kind] = HardwareError(.ioFailed, device: "\(input.kind.rawValue) input", "\(error)")
                active.append(ActiveFault(kind: input.kind, since: now, confirmedAt: now))
            }
        }
        return FaultScan(active: active, readErrors: errors)
    }
}

/// The result of polling all fault inputs.
public struct FaultScan: Equatable, Sendable {
    public var active: [ActiveFault]
    /// Inputs that could not be read (each is also listed in `active`).
    public var readErrors: [FaultKind: HardwareError]
    public var isClear: Bool { active.isEmpty }
}
