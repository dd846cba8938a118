import HAL
import Locking
import Synchronization

public struct CableLockConfig: Hashable, Sendable {
    public enum Drive: Hashable, Sendable {
        /// One output held at the target level: logical 1 = locked, 0 = unlocked.
        case level
        /// A motor driven by pulses: a pulse on the lock output locks, a pulse on the
        /// unlock output unlocks (H-bridge actuators, e.g. most Type 2 socket locks).
        case pulse(duration: EVSEDuration)
    }
    public var drive: Drive
    /// Feedback must reach the target within this time after a command.
    public var feedbackTimeout: EVSEDuration
    /// Feedback that leaves the locked position for this long while locked is a fault.
    public var lossDebounce: EVSEDuration

    public init(drive: Drive = .level, feedbackTimeout: EVSEDuration = .milliseconds(1_000),
                lossDebounce: EVSEDuration = .milliseconds(100)) {
        self.drive = drive
        self.feedbackTimeout = feedbackTimeout
        self.lossDebounce = lossDebounce
    }
}

public enum CableLockFault: String, Hashable, Sendable, CaseIterable {
    /// Feedback did not report locked within the timeout after a lock command.
    case failedToLock
    /// Feedback did not report unlocked within the timeout after an unlock command.
    case failedToUnlock
    /// Feedback left the locked position while the lock should hold.
    case lostLock
}

public enum CableLockState: Hashable, Sendable {
    case unlocked
    case locking(since: MonotonicInstant)
    case locked
    case unlocking(since: MonotonicInstant)
    /// The lock is in an unknown position; `unlock`/`lock` may be retried.
    case fault(CableLockFault, at: MonotonicInstant)
}

public enum CableLockError: Error, Hashable, Sendable, CustomStringConvertible {
    case pulseDriveNeedsUnlockOutput
    public var description: String {
        "a pulse-driven cable lock needs both a lock and an unlock output"
    }
}

/// A cable lock actuator with optional position feedback.
///
/// Without feedback the lock is assumed to reach its target when the drive is done (level:
/// at once; pulse: when the pulse ends). Pulses end in `poll(at:)`, so the owner polls
/// at least every few milliseconds while a pulse runs (`needsPolling`).
public final class CableLock: Sendable {
    public let config: CableLockConfig
    private let lockDrive: any GPIOLine
    private let unlockDrive: (any GPIOLine)?
    private let feedback: (any GPIOLine)?

    private struct State {
        var state: CableLockState = .unlocked
        var target: Bool = false
        var pulseEndsAt: MonotonicInstant?
        var pulseLine: Int = 0  // 0 lock, 1 unlock
        var lossSince: MonotonicInstant?
    }
    private let state = Mutex(State())

    /// `drive`: logical 1 = lock (level drive) or the lock pulse output (pulse drive).
    /// `unlockDrive`: the unlock pulse output, required for pulse drive.
    /// `feedback`: logical 1 = locked.
    public init(config: CableLockConfig, drive: any GPIOLine, unlockDrive: (any GPIOLine)? = nil,
                feedback: (any GPIOLine)? = nil) throws(CableLockError) {
        if case .pulse = config.drive, unlockDrive == nil { throw .pulseDriveNeedsUnlockOutput }
        self.config = config
        self.lockDrive = drive
        self.unlockDrive = unlockDrive
        self.feedback = feedback
    }

    public var lockState: CableLockState { state.locked { $0.state } }
    public var hasFeedback: Bool { feedback != nil }

    /// True while a drive pulse runs or the driver waits for feedback.
    public var needsPolling: Bool {
        state.locked { s in
            switch s.state {
            case .locking, .unlocking: return true
            default: return s.pulseEndsAt != nil
            }
        }
    }

    public func lock(at now: MonotonicInstant) throws { try command(lock: true, at: now) }
    public func unlock(at now: MonotonicInstant) throws { try command(lock: false, at: now) }

    private func command(lock: Bool, at now: MonotonicInstant) throws {
        try state.locked { s in
            switch config.drive {
            case .level:
                try lockDrive.write(lock)
                s.pulseEndsAt = nil
            case let .pulse(duration):
                // Never drive both halves of the bridge at once.
                try lockDrive.write(false)
                try unlockDrive?.write(false)
                if lock { try lockDrive.write(true) } else { try unlockDrive?.write(true) }
                s.pulseEndsAt = now + duration
                s.pulseLine = lock ? 0 : 1
            }
            s.target = lock
            s.lossSince = nil
            s.state = lock ? .locking(since: now) : .unlocking(since: now)
            if feedback == nil, s.pulseEndsAt == nil { s.state = lock ? .locked : .unlocked }
        }
    }

    /// Ends a pulse that is due, checks the feedback, returns the state.
    @discardableResult
    public func poll(at now: MonotonicInstant) throws -> CableLockState {
        let position = try feedback?.read()
        return try state.locked { s in
            if let end = s.pulseEndsAt, now >= end {
                try (s.pulseLine == 0 ? lockDrive : unlockDrive)?.write(false)
                s.pulseEndsAt = nil
                if position == nil {
                    s.state = s.target ? .locked : .unlocked
                    return s.state
                }
            }
            guard let position else { return s.state }
            switch s.state {
            case let .locking(since), let .unlocking(since):
                if position == s.target {
                    s.state = s.target ? .locked : .unlocked
                } else if now - since > config.feedbackTimeout {
                    s.state = .fault(s.target ? .failedToLock : .failedToUnlock, at: now)
                    if s.pulseEndsAt != nil {
                        try (s.pulseLine == 0 ? lockDrive : unlockDrive)?.write(false)
                        s.pulseEndsAt = nil
                    }
                }
            case .locked:
                if position {
                    s.lossSince = nil
                } else {
                    let since = s.lossSince ?? now
                    s.lossSince = since
                    if now - since > config.lossDebounce { s.state = .fault(.lostLock, at: now) }
                }
            case .unlocked, .fault:
                break
            }
            return s.state
        }
    }
}
