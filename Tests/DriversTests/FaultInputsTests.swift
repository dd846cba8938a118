import Testing
import HAL
import HALFake
@testable import Drivers

@Suite("FaultInputs")
struct FaultInputsTests {
    let backend = FakeBackend()

    func input(_ name: String, _ config: FaultInputConfig) throws -> (FaultInput, FakeGPIOLine) {
        let line = try backend.openGPIOLine(.name(name), config: GPIOLineConfig(direction: .input))
        return (FaultInput(config: config, line: line), try #require(backend.line(named: name)))
    }

    @Test func debounceEdges() throws {
        let (rcd, line) = try input("rcd", FaultInputConfig(kind: .rcd, debounce: .milliseconds(20)))
        #expect(try rcd.poll(at: ms(0)) == nil)
        line.drive(true, at: ms(100))
        #expect(try rcd.poll(at: ms(100)) == nil)
        #expect(try rcd.poll(at: ms(119)) == nil, "1 ms short of the debounce")
        let f = try #require(try rcd.poll(at: ms(120)))
        #expect(f.kind == .rcd && f.since == ms(100) && f.confirmedAt == ms(120))
        line.drive(false, at: ms(200))
        #expect(try rcd.poll(at: ms(200)) != nil)
        #expect(try rcd.poll(at: ms(219)) != nil, "release is debounced too")
        #expect(try rcd.poll(at: ms(220)) == nil)
    }

    @Test func glitchShorterThanDebounceIsIgnored() throws {
        let (t, line) = try input("ot", FaultInputConfig(kind: .overTemperature, debounce: .milliseconds(50)))
        line.drive(true, at: ms(0))
        #expect(try t.poll(at: ms(0)) == nil)
        line.drive(false, at: ms(30))
        #expect(try t.poll(at: ms(30)) == nil)
        line.drive(true, at: ms(40))
        #expect(try t.poll(at: ms(60)) == nil, "the run restarted at 60 ms")
        #expect(try t.poll(at: ms(110)) != nil)
    }

    @Test func activeLowPolarity() throws {
        let (estop, line) = try input("estop", FaultInputConfig(kind: .emergencyStop, polarity: .activeLow,
                                                                debounce: .zero))
        line.drive(true, at: ms(0))
        #expect(try estop.poll(at: ms(0)) == nil, "closed loop = healthy")
        line.drive(false, at: ms(5))
        #expect(try estop.poll(at: ms(5))?.kind == .emergencyStop, "open loop (or broken wire) = stop")
    }

    @Test func separateReleaseDebounce() throws {
        let (f, line) = try input("dc", FaultInputConfig(kind: .dcResidual, debounce: .milliseconds(10),
                                                         releaseDebounce: .milliseconds(1_000)))
        line.drive(true, at: ms(0))
        _ = try f.poll(at: ms(0))
        #expect(try f.poll(at: ms(10)) != nil)
        line.drive(false, at: ms(20))
        _ = try f.poll(at: ms(20))
        #expect(try f.poll(at: ms(1_019)) != nil)
        #expect(try f.poll(at: ms(1_020)) == nil)
    }

    @Test func groupPollReportsAllAndFailsSafe() throws {
        let (rcd, rcdLine) = try input("rcd", FaultInputConfig(kind: .rcd, debounce: .zero))
        let (estop, estopLine) = try input("estop", FaultInputConfig(kind: .emergencyStop, debounce: .zero))
        let (ot, _) = try input("ot", FaultInputConfig(kind: .overTemperature, debounce: .zero))
        let all = FaultInputs(inputs: [rcd, estop, ot])
        #expect(all.poll(at: ms(0)).isClear)
        rcdLine.drive(true, at: ms(1))
        estopLine.fail(with: HardwareError(.ioFailed, device: "estop", "read failed"))
        let scan = all.poll(at: ms(1))
        #expect(Set(scan.active.map(\.kind)) == [.rcd, .emergencyStop])
        #expect(scan.readErrors[.emergencyStop]?.kind == .ioFailed)
        #expect(scan.readErrors[.rcd] == nil)
        #expect(all.input(.overTemperature) === ot)
    }
}

@Suite("RCD self-test")
struct RCDSelfTestTests {
    let backend = FakeBackend()
    let rcdLine: FakeGPIOLine
    let testLine: FakeGPIOLine
    let test: RCDSelfTest

    init() throws {
        let rcd = try backend.openGPIOLine(.name("rcd"), config: GPIOLineConfig(direction: .input))
        let out = try backend.openGPIOLine(.name("rcd.test"), config: GPIOLineConfig(direction: .output(initial: false)))
        rcdLine = try #require(backend.line(named: "rcd"))
        testLine = try #require(backend.line(named: "rcd.test"))
        test = RCDSelfTest(config: RCDSelfTestConfig(tripTimeout: .milliseconds(300), clearTimeout: .milliseconds(500)),
                           testOutput: out, rcd: FaultInput(config: FaultInputConfig(kind: .rcd), line: rcd))
    }

    @Test func healthyModulePasses() throws {
        #expect(test.phase == .idle)
        try test.start(at: ms(0))
        #expect(testLine.level)
        #expect(try test.poll(at: ms(50)) == .awaitingTrip(since: ms(0)))
        rcdLine.drive(true, at: ms(60))
        #expect(try test.poll(at: ms(60)) == .awaitingClear(since: ms(60)))
        #expect(!testLine.level, "test current released once tripped")
        rcdLine.drive(false, at: ms(100))
        #expect(try test.poll(at: ms(100)) == .passed(at: ms(100)))
        #expect(!test.phase.isRunning)
    }

    @Test func moduleThatDoesNotTripFails() throws {
        try test.start(at: ms(0))
        #expect(try test.poll(at: ms(300)) == .awaitingTrip(since: ms(0)))
        #expect(try test.poll(at: ms(301)) == .failed(.didNotTrip, at: ms(301)))
        #expect(!testLine.level)
    }

    @Test func moduleThatStaysTrippedFails() throws {
        try test.start(at: ms(0))
        rcdLine.drive(true, at: ms(10))
        _ = try test.poll(at: ms(10))
        #expect(try test.poll(at: ms(510)) == .awaitingClear(since: ms(10)))
        #expect(try test.poll(at: ms(511)) == .failed(.didNotClear, at: ms(511)))
    }

    @Test func alreadyTrippedFailsWithoutDrivingTheTest() throws {
        rcdLine.drive(true, at: ms(0))
        #expect(try test.start(at: ms(1)) == .failed(.alreadyTripped, at: ms(1)))
        #expect(testLine.writes.isEmpty)
    }

    @Test func cancelReleasesTheTestOutput() throws {
        try test.start(at: ms(0))
        #expect(test.phase.isRunning)
        try test.cancel()
        #expect(!testLine.level && test.phase == .idle)
    }
}
