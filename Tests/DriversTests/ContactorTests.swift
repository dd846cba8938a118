import Testing
import HAL
import HALFake
@testable import Drivers

struct ContactorRig {
    let backend = FakeBackend()
    let contactor: Contactor
    let coil: FakeGPIOLine
    let coil2: FakeGPIOLine
    let feedback: FakeGPIOLine
    let phase: FakeGPIOLine

    init(_ config: ContactorConfig = ContactorConfig(closeTimeout: .milliseconds(200), weldTimeout: .milliseconds(100),
                                                     dropoutDebounce: .milliseconds(50)),
         twoCoils: Bool = false, withFeedback: Bool = true,
         phaseWiring: PhaseSwitchWiring = PhaseSwitchWiring(threePhaseLevel: .high, unpowered: .one)) throws {
        let out = GPIOLineConfig(direction: .output(initial: false))
        let c1 = try backend.openGPIOLine(.name("coil1"), config: out)
        let c2 = try backend.openGPIOLine(.name("coil2"), config: out)
        let fb = try backend.openGPIOLine(.name("fb"), config: GPIOLineConfig(direction: .input))
        let ph = try backend.openGPIOLine(.name("phase"), config: GPIOLineConfig(direction: .output(initial: phaseWiring.unpoweredLineLevel)))
        contactor = try Contactor(config: config, coils: twoCoils ? [c1, c2] : [c1],
                                  feedback: withFeedback ? fb : nil, phaseSwitch: PhaseSwitch(line: ph, wiring: phaseWiring))
        coil = try #require(backend.line(named: "coil1"))
        coil2 = try #require(backend.line(named: "coil2"))
        feedback = try #require(backend.line(named: "fb"))
        phase = try #require(backend.line(named: "phase"))
    }
}

func ms(_ v: UInt64) -> MonotonicInstant { MonotonicInstant(microseconds: v * 1_000) }

@Suite("Contactor")
struct ContactorTests {
    @Test func closeAndOpenDriveEveryCoil() throws {
        let rig = try ContactorRig(twoCoils: true)
        try rig.contactor.close(at: ms(0))
        #expect(rig.coil.level && rig.coil2.level)
        #expect(rig.contactor.isCommandedClosed)
        try rig.contactor.open(at: ms(10))
        #expect(!rig.coil.level && !rig.coil2.level)
        #expect(rig.coil.writes == [true, false], "open is a single write per coil")
    }

    @Test func openWritesEveryCoilEvenWhenOneFails() throws {
        let rig = try ContactorRig(twoCoils: true)
        try rig.contactor.close(at: ms(0))
        rig.coil.fail(with: HardwareError(.ioFailed, device: "coil1", "write failed"))
        #expect(throws: HardwareError.self) { try rig.contactor.open(at: ms(1)) }
        #expect(!rig.coil2.level, "the healthy coil is released")
        #expect(!rig.contactor.isCommandedClosed)
    }

    @Test func normalOperationRaisesNoFault() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(0))
        #expect(try rig.contactor.poll(at: ms(50)).isEmpty)
        rig.feedback.drive(true, at: ms(60))
        #expect(try rig.contactor.poll(at: ms(300)).isEmpty)
        try rig.contactor.open(at: ms(400))
        rig.feedback.drive(false, at: ms(420))
        #expect(try rig.contactor.poll(at: ms(1_000)).isEmpty)
        #expect(rig.contactor.status.feedbackClosed == false)
    }

    @Test func weldDetectedJustAfterTheTimeoutNotBefore() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(0))
        rig.feedback.drive(true, at: ms(10))
        #expect(try rig.contactor.poll(at: ms(20)).isEmpty)
        try rig.contactor.open(at: ms(1_000))
        // The contacts stay closed: welded.
        #expect(try rig.contactor.poll(at: ms(1_050)).isEmpty)
        #expect(try rig.contactor.poll(at: ms(1_100)).isEmpty, "exactly the timeout is not longer than it")
        let faults = try rig.contactor.poll(at: MonotonicInstant(microseconds: 1_100_001))
        #expect(faults.map(\.kind) == [.welded])
        #expect(faults.first?.since == ms(1_000), "dated from the open command")
        #expect(faults.first?.detectedAt == MonotonicInstant(microseconds: 1_100_001))
        #expect(try rig.contactor.poll(at: ms(1_200)).count == 1, "reported once, not duplicated")
    }

    @Test func contactsThatCloseOnTheirOwnAreAWeldFromWhenSeen() throws {
        let rig = try ContactorRig()
        try rig.contactor.open(at: ms(0))
        #expect(try rig.contactor.poll(at: ms(10)).isEmpty)
        rig.feedback.drive(true, at: ms(500))
        #expect(try rig.contactor.poll(at: ms(500)).isEmpty)
        #expect(try rig.contactor.poll(at: ms(600)).isEmpty)
        let f = try rig.contactor.poll(at: ms(601))
        #expect(f.map(\.kind) == [.welded] && f.first?.since == ms(500))
    }

    @Test func weldClearsWhenTheFeedbackOpens() throws {
        let rig = try ContactorRig()
        rig.feedback.drive(true, at: ms(0))
        _ = try rig.contactor.poll(at: ms(0))
        #expect(try rig.contactor.poll(at: ms(200)).map(\.kind) == [.welded])
        rig.feedback.drive(false, at: ms(210))
        #expect(try rig.contactor.poll(at: ms(210)).isEmpty)
    }

    @Test func failedToCloseTiming() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(100))
        #expect(try rig.contactor.poll(at: ms(150)).isEmpty)
        #expect(try rig.contactor.poll(at: ms(300)).isEmpty, "200 ms is the limit itself")
        let f = try rig.contactor.poll(at: ms(301))
        #expect(f.map(\.kind) == [.failedToClose] && f.first?.since == ms(100))
        // A late close clears it.
        rig.feedback.drive(true, at: ms(350))
        #expect(try rig.contactor.poll(at: ms(350)).isEmpty)
    }

    @Test func failedToCloseClearsOnTheNextCommand() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(0))
        #expect(try rig.contactor.poll(at: ms(500)).map(\.kind) == [.failedToClose])
        try rig.contactor.open(at: ms(510))
        #expect(rig.contactor.faults.isEmpty)
        #expect(try rig.contactor.poll(at: ms(520)).isEmpty)
    }

    @Test func dropoutWhileClosed() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(0))
        rig.feedback.drive(true, at: ms(20))
        #expect(try rig.contactor.poll(at: ms(30)).isEmpty)
        rig.feedback.drive(false, at: ms(1_000))
        #expect(try rig.contactor.poll(at: ms(1_000)).isEmpty)
        #expect(try rig.contactor.poll(at: ms(1_050)).isEmpty)
        let f = try rig.contactor.poll(at: ms(1_051))
        #expect(f.map(\.kind) == [.openedUnexpectedly] && f.first?.since == ms(1_000))
    }

    @Test func aBounceShorterThanTheDebounceIsNoFault() throws {
        let rig = try ContactorRig()
        try rig.contactor.close(at: ms(0))
        rig.feedback.drive(true, at: ms(20))
        _ = try rig.contactor.poll(at: ms(30))
        rig.feedback.drive(false, at: ms(100))
        #expect(try rig.contactor.poll(at: ms(100)).isEmpty)
        rig.feedback.drive(true, at: ms(140))
        #expect(try rig.contactor.poll(at: ms(140)).isEmpty)
        #expect(try rig.contactor.poll(at: ms(400)).isEmpty)
    }

    @Test func noFeedbackNoFaults() throws {
        let rig = try ContactorRig(withFeedback: false)
        try rig.contactor.close(at: ms(0))
        #expect(try rig.contactor.poll(at: ms(10_000)).isEmpty)
        #expect(!rig.contactor.hasFeedback)
    }

    @Test func phaseSwitchOnlyWhileOpen() throws {
        let rig = try ContactorRig()
        try rig.contactor.setPhases(.one)
        #expect(rig.phase.level == false)
        try rig.contactor.setPhases(.three)
        #expect(rig.phase.level == true && rig.contactor.phases == .three)
        try rig.contactor.close(at: ms(0))
        #expect(throws: ContactorError.phaseSwitchWhileClosed) { try rig.contactor.setPhases(.one) }
        #expect(rig.phase.level == true)
        try rig.contactor.open(at: ms(10))
        rig.feedback.drive(true, at: ms(10))  // still physically closed (e.g. welded)
        #expect(throws: ContactorError.phaseSwitchWhileClosed) { try rig.contactor.setPhases(.one) }
        rig.feedback.drive(false, at: ms(20))
        try rig.contactor.setPhases(.one)
        #expect(rig.phase.level == false && rig.contactor.phases == .one)
    }

    @Test func threePhasesOnTheLowLevelWhenTheBoardSaysSo() throws {
        let rig = try ContactorRig(phaseWiring: PhaseSwitchWiring(threePhaseLevel: .low, unpowered: .three))
        try rig.contactor.setPhases(.three)
        #expect(rig.phase.level == false && rig.contactor.phases == .three)
        try rig.contactor.setPhases(.one)
        #expect(rig.phase.level == true && rig.contactor.phases == .one)
        try rig.contactor.close(at: ms(0))
        #expect(throws: ContactorError.phaseSwitchWhileClosed) { try rig.contactor.setPhases(.three) }
        #expect(rig.phase.level == true && rig.contactor.phases == .one)
    }

    @Test(arguments: [PhaseSwitchWiring.Level.high, .low], [PhaseCount.one, .three])
    func phasesStartAsTheLineWasRequested(level: PhaseSwitchWiring.Level, unpowered: PhaseCount) throws {
        let wiring = PhaseSwitchWiring(threePhaseLevel: level, unpowered: unpowered)
        let rig = try ContactorRig(phaseWiring: wiring)
        #expect(rig.contactor.phases == unpowered)
        #expect(rig.phase.level == wiring.unpoweredLineLevel)
        try rig.contactor.setPhases(.three)
        #expect(rig.phase.level == (level == .high))
    }

    @Test func aFailedPhaseWriteForgetsThePhases() throws {
        let rig = try ContactorRig()
        rig.phase.fail(with: HardwareError(.ioFailed, device: "phase", "write failed"))
        #expect(throws: HardwareError.self) { try rig.contactor.setPhases(.three) }
        #expect(rig.contactor.phases == nil)
    }

    @Test func noPhaseSwitchOrNoCoils() throws {
        let backend = FakeBackend()
        let c = try backend.openGPIOLine(.name("c"), config: GPIOLineConfig(direction: .output(initial: false)))
        let contactor = try Contactor(config: ContactorConfig(), coils: [c])
        #expect(throws: ContactorError.noPhaseSwitch) { try contactor.setPhases(.three) }
        #expect(throws: ContactorError.noCoils) { _ = try Contactor(config: ContactorConfig(), coils: []) }
    }
}
