import BoardDescription
import Drivers
import HAL
import HALFake
import Station
import Testing

/// A 3-phase connector with a 1-phase/3-phase relay charges on three phases: `start` sets the
/// relay (the issue: a 22 kW charger gave a 3-phase EV 7.4 kW, the relay left at one phase).
@Suite("Phase switching at start")
struct PhaseSwitchingTests {
    /// The sim board with every phase switch wired as `wiring` (or removed, for nil).
    static func board(_ wiring: PhaseSwitchWiring?) throws -> BoardDescription {
        var board = try Rig.simBoard()
        for i in board.connectors.indices {
            if let wiring {
                board.connectors[i].contactor.phaseSwitch?.wiring = wiring
            } else {
                board.connectors[i].contactor.phaseSwitch = nil
            }
        }
        return board
    }

    func phaseLine(_ rig: Rig, _ id: Int) -> FakeGPIOLine? { rig.fake.line(named: "c\(id).phase.switch") }

    @Test(arguments: [PhaseSwitchWiring.Level.high, .low])
    func startSetsTheThreePhaseLevel(threePhaseLevel: PhaseSwitchWiring.Level) throws {
        let rig = try Rig(board: Self.board(PhaseSwitchWiring(threePhaseLevel: threePhaseLevel, unpowered: .one)))
        let high = threePhaseLevel == .high
        for id in [1, 2] { #expect(phaseLine(rig, id)?.writes == [], "c\(id): switched before start") }
        try rig.station.start(at: rig.clock.now())
        // Start sets three phases through the driver (a write, not just the request's level),
        // with the contactors open.
        for id in [1, 2] {
            #expect(phaseLine(rig, id)?.level == high, "c\(id)")
            #expect(phaseLine(rig, id)?.writes == [high], "c\(id)")
            #expect(!rig.coil(id))
        }
        // And a 3-phase EV charges with the relay left there.
        #expect(rig.startCharging(1))
        #expect(phaseLine(rig, 1)?.level == high)
    }

    @Test func takingTheBoardDoesNotSwitchARelayLeftOnThreePhases() throws {
        // As after a restart: the previous run left the relay on three phases.
        let rig = try Rig(board: Self.board(PhaseSwitchWiring(threePhaseLevel: .low, unpowered: .one)))
        #expect(phaseLine(rig, 1)?.level == false && phaseLine(rig, 1)?.writes == [])
        try rig.station.start(at: rig.clock.now())
        #expect(phaseLine(rig, 1)?.writes == [false])
    }

    @Test func aBoardWithoutTheRelayHasNoLineToDrive() throws {
        let rig = try Rig(board: Self.board(nil))
        try rig.station.start(at: rig.clock.now())
        #expect(phaseLine(rig, 1) == nil && phaseLine(rig, 2) == nil)
        #expect(rig.startCharging(1))
    }

    @Test func aContactorThatReadsClosedKeepsTheRelayAlone() throws {
        let rig = try Rig(board: Self.board(PhaseSwitchWiring(threePhaseLevel: .high, unpowered: .one)))
        rig.welded.insert(1)
        rig.fake.line(named: "c1.contactor.feedback")?.drive(true, at: rig.clock.now())
        try rig.station.start(at: rig.clock.now())
        #expect(phaseLine(rig, 1)?.writes == [], "switched under load")
        #expect(phaseLine(rig, 2)?.writes == [true])
    }
}
