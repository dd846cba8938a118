import HAL
import Locking
import Synchronization

public struct ContactorConfig: Hashable, Sendable {
    /// Feedback must report closed within this time after a close command.
    public var closeTimeout: EVSEDuration
    /// Feedback still closed this long after an open command (or closing on its own while
    /// commanded open) means the contacts are welded.
    public var weldTimeout: EVSEDuration
    /// Feedback open this long while commanded closed, after it had confirmed closing,
    /// means the contactor dropped out on its own (coil supply, mechanical fault).
    public var dropoutDebounce: EVSEDuration

    public init(closeTimeout: EVSEDuration = .milliseconds(200),
                weldTimeout: EVSEDuration = .milliseconds(200),
                dropoutDebounce: EVSEDuration = .milliseconds(50)) {
        self.closeTimeout = closeTimeout
        self.weldTimeout = weldTimeout
        self.dropoutDebounce = dropoutDebounce
    }
}

public enum ContactorFaultKind: String, Hashable, Sendable, CaseIterable {
    /// Feedback closed while commanded open for longer than `weldTimeout`.
    case welded
    /// Feedback still open `closeTimeout` after a close command.
    case failedToClose
    /// Feedback opened while commanded closed, after it had been closed.
    case openedUnexpectedly
}

public struct ContactorFault: Hashable, Sendable, CustomStringConvertible {
    public var kind: ContactorFaultKind
    /// When the disagreement between command and feedback began.
    public var since: MonotonicInstant
    /// The poll that confirmed the fault.
    public var detectedAt: MonotonicInstant

    public init(kind: ContactorFaultKind, since: MonotonicInstant, detectedAt: MonotonicInstant) {
        self.kind = kind
        self.since = since
        self.detectedAt = detectedAt
    }

    public var description: String { "contactor \(kind.rawValue) since \(since) (detected \(detectedAt))" }
}

public enum ContactorError: Error, Hashable, Sendable, CustomStringConvertible {
    case noCoils
    case noPhaseSwitch
    /// Phase switching is only allowed with the contactor open (commanded and, where a
    /// feedback exists, confirmed).
    case phaseSwitchWhileClosed

    public var description: String {
        switch self {
        case .noCoils: return "a contactor needs at least one coil output"
        case .noPhaseSwitch: return "this contactor has no 1-phase/3-phase switching relay"
        case .phaseSwitchWhileClosed: return "phases can only be switched while the contactor is open"
        }
    }
}

public enum PhaseCount: Int, Hashable, Sendable {
    case one = 1, three = 3
}

/// How a board wires its 1-phase/3-phase relay. Boards differ in both: some energise the
/// relay to add L2 and L3, others to drop them, and the driver stage may invert the line.
public struct PhaseSwitchWiring: Hashable, Sendable {
    public enum Level: String, Hashable, Sendable, CaseIterable { case high, low }

    /// The line level that selects three phases; the other level selects one.
    public var threePhaseLevel: Level
    /// What the relay connects while its coil has no power: before the firmware drives the
    /// line, and should the line be let go.
    public var unpowered: PhaseCount

    public init(threePhaseLevel: Level, unpowered: PhaseCount) {
        self.threePhaseLevel = threePhaseLevel
        self.unpowered = unpowered
    }

    /// The line value (true = high) that selects `phases`.
    public func lineLevel(for phases: PhaseCount) -> Bool {
        (phases == .three) == (threePhaseLevel == .high)
    }

    /// The phases a line at `level` selects.
    public func phases(atLineLevel level: Bool) -> PhaseCount {
        level == (threePhaseLevel == .high) ? .three : .one
    }

    /// The line level that puts the relay where an unpowered coil leaves it.
    public var unpoweredLineLevel: Bool { lineLevel(for: unpowered) }
}

/// The 1-phase/3-phase relay of a contactor: its output line (requested without active-low,
/// so the value written is the level on the line) and how it is wired.
public struct PhaseSwitch: Sendable {
    public let line: any GPIOLine
    public let wiring: PhaseSwitchWiring

    public init(line: any GPIOLine, wiring: PhaseSwitchWiring) {
        self.line = line
        self.wiring = wiring
    }
}

/// A point-in-time view of the contactor.
public struct ContactorStatus: Hashable, Sendable {
    public var commandedClosed: Bool
    /// Last feedback read (nil without a feedback contact or before the first poll).
    public var feedbackClosed: Bool?
    public var faults: [ContactorFault]
    public var phases: PhaseCount?
}

/// The main contactor of a connector: one or more coil outputs switched together, an
/// optional auxiliary mirror contact, an optional 1-phase/3-phase switching relay.
///
/// Faults are derived from comparing command and feedback on every `poll(at:)`. They are
/// not latched here: a fault clears once feedback agrees with the command again (a
/// `failedToClose` or `openedUnexpectedly` also clears on the next command). Latching and
/// what to do about a fault are the charging core's business.
public final class Contactor: Sendable {
    public let config: ContactorConfig
    private let coils: [any GPIOLine]
    private let feedback: (any GPIOLine)?
    private let phaseSwitch: PhaseSwitch?

    private struct State {
        var commandedClosed = false
        var commandedAt: MonotonicInstant?
        /// Feedback agreed with the command at some poll since the command.
        var agreedSinceCommand = false
        var disagreeSince: MonotonicInstant?
        var feedbackClosed: Bool?
        var faults: [ContactorFault] = []
        var phases: PhaseCount?
    }
    private let state = Mutex(State())

    /// `coils`: output lines, logical 1 = close. `feedback`: input, logical 1 = contacts
    /// closed. `phaseSwitch`: the relay's output line and its wiring; `phases` starts as what
    /// the line was requested at (nil if it cannot be read back).
    public init(config: ContactorConfig, coils: [any GPIOLine], feedback: (any GPIOLine)? = nil,
                phaseSwitch: PhaseSwitch? = nil) throws(ContactorError) {
        guard !coils.isEmpty else { throw .noCoils }
        self.config = config
        self.coils = coils
        self.feedback = feedback
        self.phaseSwitch = phaseSwitch
        if let phaseSwitch, let level = try? phaseSwitch.line.read() {
            state.locked { $0.phases = phaseSwitch.wiring.phases(atLineLevel: level) }
        }
    }

    public var hasFeedback: Bool { feedback != nil }
    public var hasPhaseSwitch: Bool { phaseSwitch != nil }
    public var phaseSwitchWiring: PhaseSwitchWiring? { phaseSwitch?.wiring }
    public var isCommandedClosed: Bool { state.locked { $0.commandedClosed } }

    /// Energises every coil. Throws the first hardware error after trying all coils; on a
    /// failure the contactor is considered commanded closed if any coil may have closed, so
    /// the owner must `open` it.
    public func close(at now: MonotonicInstant) throws {
        state.locked { s in
            s.commandedClosed = true
            s.commandedAt = now
            s.agreedSinceCommand = false
            s.disagreeSince = nil
            s.faults.removeAll { $0.kind != .welded }
        }
        try writeAll(true)
    }

    /// The safety path: de-energises every coil at once, without reading anything first.
    /// Every coil is written even if an earlier one fails; then the first error is thrown.
    public func open(at now: MonotonicInstant) throws {
        var firstError: (any Error)?
        for coil in coils {
            do { try coil.write(false) } catch { if firstError == nil { firstError = error } }
        }
        state.locked { s in
            s.commandedClosed = false
            s.commandedAt = now
            s.agreedSinceCommand = false
            s.disagreeSince = nil
            s.faults.removeAll { $0.kind != .welded }
        }
        if let firstError { throw firstError }
    }

    private func writeAll(_ value: Bool) throws {
        var firstError: (any Error)?
        for coil in coils {
            do { try coil.write(value) } catch { if firstError == nil { firstError = error } }
        }
        if let firstError { throw firstError }
    }

    /// Reads the feedback and returns the faults active now. Without a feedback contact
    /// there is nothing to compare and the list is always empty.
    @discardableResult
    public func poll(at now: MonotonicInstant) throws -> [ContactorFault] {
        guard let feedback else { return [] }
        let closed = try feedback.read()
        return state.locked { s in
            s.feedbackClosed = closed
            let start = s.commandedAt ?? now
            if s.commandedAt == nil { s.commandedAt = now }
            if closed == s.commandedClosed {
                s.agreedSinceCommand = true
                s.disagreeSince = nil
                // Feedback agrees: whatever the disagreement was, it is over.
                s.faults.removeAll()
                return s.faults
            }
            let since: MonotonicInstant
            if let d = s.disagreeSince {
                since = d
            } else {
                // The first poll after a command that disagrees dates the disagreement from
                // the command; a disagreement that appears later dates from this poll.
                since = s.agreedSinceCommand ? now : start
                s.disagreeSince = since
            }
            let kind: ContactorFaultKind
            let limit: EVSEDuration
            if s.commandedClosed {
                if s.agreedSinceCommand {
                    kind = .openedUnexpectedly
                    limit = config.dropoutDebounce
                } else {
                    kind = .failedToClose
                    limit = config.closeTimeout
                }
            } else {
                kind = .welded
                limit = config.weldTimeout
            }
            if now - since > limit, !s.faults.contains(where: { $0.kind == kind }) {
                s.faults.append(ContactorFault(kind: kind, since: since, detectedAt: now))
            }
            return s.faults
        }
    }

    /// Faults found by the last poll.
    public var faults: [ContactorFault] { state.locked { $0.faults } }

    public var status: ContactorStatus {
        state.locked {
            ContactorStatus(commandedClosed: $0.commandedClosed, feedbackClosed: $0.feedbackClosed,
                            faults: $0.faults, phases: $0.phases)
        }
    }

    /// Sets the phase-switching relay to the line level the board's wiring gives `phases`.
    /// Only while commanded open and, where there is a feedback contact, while it reads open:
    /// switching phases under load would arc.
    public func setPhases(_ phases: PhaseCount) throws {
        guard let phaseSwitch else { throw ContactorError.noPhaseSwitch }
        let commandedClosed = state.locked { $0.commandedClosed }
        guard !commandedClosed else { throw ContactorError.phaseSwitchWhileClosed }
        if let feedback, try feedback.read() { throw ContactorError.phaseSwitchWhileClosed }
        do {
            try phaseSwitch.line.write(phaseSwitch.wiring.lineLevel(for: phases))
        } catch {
            // The relay may or may not have moved: nobody may rely on the old value.
            state.locked { $0.phases = nil }
            throw error
        }
        state.locked { $0.phases = phases }
    }

    public var phases: PhaseCount? { state.locked { $0.phases } }
}
