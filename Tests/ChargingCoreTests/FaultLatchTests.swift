@testable import ChargingCore
import Drivers
import Testing

/// The fault latch on its own: what clears each kind of fault, and the RCD self-test.
@Suite("Fault latch")
struct FaultLatchTests {
    /// One of every kind of fault the connector knows.
    static let everyFault: [ConnectorFault] =
        FaultKind.allCases.map { .input($0) } + ContactorFaultKind.allCases.map { .contactor($0) }
        + CableLockFault.allCases.map { .lock($0) } + [.pilot, .diode, .overCurrent, .meter, .reader]

    static func latched(_ fault: ConnectorFault, selfTest: Bool = false) -> FaultLatch {
        var latch = FaultLatch(rcdSelfTestAvailable: selfTest)
        let latched = latch.raise(fault)
        #expect(latched)
        #expect(latch.phase(of: fault) == .active)
        return latch
    }

    @Test("its source clearing clears exactly the faults that clear with their source", arguments: everyFault)
    func sourceClears(fault: ConnectorFault) {
        var latch = Self.latched(fault)
        let testAsked = latch.sourceCleared(fault)
        #expect(!testAsked, "no self-test on a board without one")
        #expect(latch.contains(fault) == (fault.clearing != .whenSourceClears), "\(fault)")
    }

    @Test("unplugging clears what the vehicle caused, and a lock that never locked", arguments: everyFault)
    func unplugClears(fault: ConnectorFault) {
        var latch = Self.latched(fault)
        latch.vehicleUnplugged()
        let clears = fault.clearing == .onUnplugOrPerson || fault == .lock(.failedToLock)
        #expect(latch.contains(fault) == !clears, "\(fault)")
    }

    @Test("a person clears all but the faults whose source still reports them", arguments: everyFault)
    func personClears(fault: ConnectorFault) {
        var latch = Self.latched(fault)
        let testAsked2 = latch.clearedByPerson()
        #expect(!testAsked2)
        var clears = fault.clearing != .whenSourceClears
        if case .lock = fault { clears = true }
        #expect(latch.contains(fault) == !clears, "\(fault)")
    }

    @Test("a confirmed lock clears the lock faults only", arguments: everyFault)
    func lockConfirmationClears(fault: ConnectorFault) {
        var latch = Self.latched(fault)
        latch.lockConfirmed()
        var clears = false
        if case .lock = fault { clears = true }
        #expect(latch.contains(fault) == !clears, "\(fault)")
    }

    @Test("the clearing rule per kind is the documented one")
    func clearingRules() {
        for fault in Self.everyFault {
            switch fault {
            case .contactor: #expect(fault.clearing == .byPersonOnly, "\(fault)")
            case .overCurrent, .diode: #expect(fault.clearing == .onUnplugOrPerson, "\(fault)")
            default: #expect(fault.clearing == .whenSourceClears, "\(fault)")
            }
        }
    }

    @Test("a residual-current fault needs a passing self-test where the board has one",
          arguments: [ConnectorFault.input(.rcd), .input(.dcResidual)])
    func residualCurrentSelfTest(fault: ConnectorFault) {
        var latch = Self.latched(fault, selfTest: true)
        let testAsked3 = latch.sourceCleared(fault)
        #expect(testAsked3, "the self-test is asked for")
        #expect(latch.phase(of: fault) == .awaitingSelfTest)
        #expect(latch.blocksEnergy, "still latched while the test runs")
        let latched2 = latch.raise(fault)
        #expect(!latched2, "the test tripping the RCD is no new fault")
        #expect(latch.phase(of: fault) == .awaitingSelfTest)
        let latchedByTest = latch.selfTestFinished(passed: false)
        #expect(latchedByTest == nil)
        #expect(latch.phase(of: fault) == .selfTestFailed)
        let testAsked4 = latch.sourceCleared(fault)
        #expect(!testAsked4, "a failed test is not undone by the source")
        latch.vehicleUnplugged()
        #expect(latch.phase(of: fault) == .selfTestFailed, "nor by unplugging")
        let testAsked5 = latch.clearedByPerson()
        #expect(testAsked5, "a person runs the test again")
        #expect(latch.phase(of: fault) == .awaitingSelfTest)
        let latchedByTest2 = latch.selfTestFinished(passed: true)
        #expect(latchedByTest2 == nil)
        #expect(!latch.contains(fault))
        #expect(!latch.blocksEnergy)
    }

    @Test("a residual-current fault seen again while its test waits is active again only once the test is over")
    func residualCurrentRaisedAgain() {
        var latch = Self.latched(.input(.rcd), selfTest: true)
        latch.sourceCleared(.input(.rcd))
        let latchedByTest3 = latch.selfTestFinished(passed: false)
        #expect(latchedByTest3 == nil)
        let latched3 = latch.raise(.input(.rcd))
        #expect(latched3)
        #expect(latch.phase(of: .input(.rcd)) == .active)
    }

    @Test("one self-test answers both residual-current faults")
    func oneSelfTestForBoth() {
        var latch = Self.latched(.input(.rcd), selfTest: true)
        latch.raise(.input(.dcResidual))
        let testAsked6 = latch.sourceCleared(.input(.rcd))
        #expect(testAsked6)
        let testAsked7 = latch.sourceCleared(.input(.dcResidual))
        #expect(!testAsked7, "the test already runs")
        let latchedByTest4 = latch.selfTestFinished(passed: true)
        #expect(latchedByTest4 == nil)
        #expect(latch.active.isEmpty)
    }

    @Test("a failed self-test nobody waited for latches an RCD fault; a passed one changes nothing")
    func bootSelfTest() {
        var latch = FaultLatch(rcdSelfTestAvailable: true)
        let latchedByTest5 = latch.selfTestFinished(passed: true)
        #expect(latchedByTest5 == nil)
        #expect(latch.active.isEmpty)
        let latchedByTest6 = latch.selfTestFinished(passed: false)
        #expect(latchedByTest6 == .input(.rcd))
        #expect(latch.phase(of: .input(.rcd)) == .selfTestFailed)
        // An RCD already active keeps its phase; the machine still acts on the fault.
        var active = Self.latched(.input(.rcd), selfTest: true)
        let latchedByTest7 = active.selfTestFinished(passed: false)
        #expect(latchedByTest7 == .input(.rcd))
        #expect(active.phase(of: .input(.rcd)) == .active)
    }

    @Test("faults are reported most severe first; a reader fault alone does not block energy")
    func orderAndBlocking() {
        var latch = FaultLatch(rcdSelfTestAvailable: false)
        latch.raise(.reader)
        #expect(!latch.blocksEnergy)
        latch.raise(.meter)
        latch.raise(.contactor(.welded))
        latch.raise(.input(.emergencyStop))
        #expect(latch.blocksEnergy)
        #expect(latch.active == [.contactor(.welded), .input(.emergencyStop), .meter, .reader])
    }
}
