import Testing
import HAL
import HALFake
@testable import Drivers

@Suite("CableLock")
struct CableLockTests {
    let backend = FakeBackend()
    let out = GPIOLineConfig(direction: .output(initial: false))

    func lines() throws -> (drive: FakeGPIOLine, unlock: FakeGPIOLine, feedback: FakeGPIOLine) {
        _ = try backend.openGPIOLine(.name("lock"), config: out)
        _ = try backend.openGPIOLine(.name("unlock"), config: out)
        _ = try backend.openGPIOLine(.name("fb"), config: GPIOLineConfig(direction: .input))
        return (try #require(backend.line(named: "lock")), try #require(backend.line(named: "unlock")),
                try #require(backend.line(named: "fb")))
    }

    @Test func levelDriveWithFeedbackLocks() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .level, feedbackTimeout: .milliseconds(500)),
                                 drive: l.drive, feedback: l.feedback)
        try lock.lock(at: ms(0))
        #expect(l.drive.level)
        #expect(lock.lockState == .locking(since: ms(0)) && lock.needsPolling)
        #expect(try lock.poll(at: ms(100)) == .locking(since: ms(0)))
        l.feedback.drive(true, at: ms(200))
        #expect(try lock.poll(at: ms(200)) == .locked)
        #expect(!lock.needsPolling)
        try lock.unlock(at: ms(1_000))
        #expect(!l.drive.level)
        l.feedback.drive(false, at: ms(1_100))
        #expect(try lock.poll(at: ms(1_100)) == .unlocked)
    }

    @Test func lockFaultAfterTheFeedbackTimeout() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .level, feedbackTimeout: .milliseconds(500)),
                                 drive: l.drive, feedback: l.feedback)
        try lock.lock(at: ms(0))
        #expect(try lock.poll(at: ms(500)) == .locking(since: ms(0)), "exactly the timeout is still in time")
        #expect(try lock.poll(at: ms(501)) == .fault(.failedToLock, at: ms(501)))
        // A retry starts over.
        try lock.lock(at: ms(600))
        l.feedback.drive(true, at: ms(650))
        #expect(try lock.poll(at: ms(650)) == .locked)
    }

    @Test func unlockFault() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .level, feedbackTimeout: .milliseconds(300)),
                                 drive: l.drive, feedback: l.feedback)
        try lock.lock(at: ms(0))
        l.feedback.drive(true, at: ms(10))
        _ = try lock.poll(at: ms(10))
        try lock.unlock(at: ms(100))
        #expect(try lock.poll(at: ms(401)) == .fault(.failedToUnlock, at: ms(401)))
    }

    @Test func lostLockWhileLocked() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .level, lossDebounce: .milliseconds(100)),
                                 drive: l.drive, feedback: l.feedback)
        try lock.lock(at: ms(0))
        l.feedback.drive(true, at: ms(10))
        #expect(try lock.poll(at: ms(10)) == .locked)
        l.feedback.drive(false, at: ms(1_000))
        #expect(try lock.poll(at: ms(1_000)) == .locked)
        l.feedback.drive(true, at: ms(1_050))
        #expect(try lock.poll(at: ms(1_050)) == .locked, "a glitch shorter than the debounce")
        l.feedback.drive(false, at: ms(2_000))
        #expect(try lock.poll(at: ms(2_000)) == .locked)
        #expect(try lock.poll(at: ms(2_100)) == .locked)
        #expect(try lock.poll(at: ms(2_101)) == .fault(.lostLock, at: ms(2_101)))
    }

    @Test func pulseDriveEndsThePulseOnTime() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .pulse(duration: .milliseconds(200)),
                                                         feedbackTimeout: .milliseconds(1_000)),
                                 drive: l.drive, unlockDrive: l.unlock, feedback: l.feedback)
        try lock.lock(at: ms(0))
        #expect(l.drive.level && !l.unlock.level)
        _ = try lock.poll(at: ms(199))
        #expect(l.drive.level, "pulse still running")
        l.feedback.drive(true, at: ms(150))
        #expect(try lock.poll(at: ms(200)) == .locked)
        #expect(!l.drive.level, "pulse ended")
        try lock.unlock(at: ms(500))
        #expect(l.unlock.level && !l.drive.level)
        l.feedback.drive(false, at: ms(600))
        _ = try lock.poll(at: ms(600))
        #expect(l.unlock.level)
        #expect(try lock.poll(at: ms(700)) == .unlocked)
        #expect(!l.unlock.level)
    }

    @Test func pulseDriveWithoutFeedbackAssumesTheTarget() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .pulse(duration: .milliseconds(100))),
                                 drive: l.drive, unlockDrive: l.unlock)
        try lock.lock(at: ms(0))
        #expect(try lock.poll(at: ms(50)) == .locking(since: ms(0)))
        #expect(try lock.poll(at: ms(100)) == .locked)
        #expect(!l.drive.level)
    }

    @Test func levelDriveWithoutFeedbackIsImmediate() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(), drive: l.drive)
        try lock.lock(at: ms(0))
        #expect(lock.lockState == .locked && l.drive.level)
        try lock.unlock(at: ms(1))
        #expect(lock.lockState == .unlocked && !l.drive.level)
    }

    @Test func pulseNeedsAnUnlockOutput() throws {
        let l = try lines()
        #expect(throws: CableLockError.pulseDriveNeedsUnlockOutput) {
            _ = try CableLock(config: CableLockConfig(drive: .pulse(duration: .milliseconds(100))), drive: l.drive)
        }
    }

    @Test func pulseStopsOnFault() throws {
        let l = try lines()
        let lock = try CableLock(config: CableLockConfig(drive: .pulse(duration: .milliseconds(5_000)),
                                                         feedbackTimeout: .milliseconds(300)),
                                 drive: l.drive, unlockDrive: l.unlock, feedback: l.feedback)
        try lock.lock(at: ms(0))
        #expect(try lock.poll(at: ms(301)) == .fault(.failedToLock, at: ms(301)))
        #expect(!l.drive.level, "a motor that cannot reach its end stop is not left powered")
    }
}
