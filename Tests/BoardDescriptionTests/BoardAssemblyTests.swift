import Testing
import BoardAssembly
import BoardDescription
import Drivers
import HAL
import HALFake

@Suite("BoardAssembly")
struct BoardAssemblyTests {
    func simBoard() throws -> BoardDescription {
        try BoardLoader.load(path: Repo.boardDirectory + "/sim-2x22kw.yaml")
    }

    @Test func buildsEveryDriverOfTheSimBoard() throws {
        let board = try simBoard()
        let fake = FakeBackend()
        let hw = try BoardHardware.assemble(board: board, backend: fake)
        #expect(hw.connectors.map(\.id) == [1, 2])
        for c in hw.connectors {
            #expect(c.lock != nil)
            #expect(c.rcd != nil)
            #expect(c.rcdSelfTest != nil)
            #expect(c.meter?.unit == UInt8(c.id))
            #expect(c.meter?.map.name == "sdm630")
            #expect(c.led != nil)
            #expect(c.contactor.hasFeedback)
            #expect(c.contactor.hasPhaseSwitch)
            #expect(c.pilot.config.maximumCurrent == 32)
        }
        #expect(hw.station.cardReader is WiegandReader)
        #expect(hw.station.display is HD44780Display)
        #expect(hw.station.faults.input(.emergencyStop) != nil)
        #expect(hw.station.faults.input(.overTemperature) != nil)

        // The primitives were opened where the board file says, with the right directions.
        let coil = try #require(fake.line(named: "c1.contactor.coil"))
        #expect(coil.config.direction == .output(initial: false))
        #expect(fake.line(named: "c2.contactor.feedback")?.config.direction == .input)
        #expect(fake.line(named: "rfid.d0")?.config.edges == .both)
        #expect(fake.i2cDevice(bus: "sim", address: 0x27) != nil)
    }

    @Test func driversActOnTheBoardsPrimitives() throws {
        let board = try simBoard()
        let fake = FakeBackend()
        let hw = try BoardHardware.assemble(board: board, backend: fake)
        let c2 = try #require(hw.connector(id: 2))

        try c2.contactor.close(at: .zero)
        #expect(fake.line(named: "c2.contactor.coil")?.level == true)
        #expect(fake.line(named: "c1.contactor.coil")?.level == false)

        try c2.pilot.offer(current: 16)
        let pwm = try #require(fake.pwm(.named("c2.cp.pwm"))?.setting)
        #expect(pwm.periodNanoseconds == 1_000_000)
        #expect(abs(pwm.dutyPercent - 16 / 0.6) < 0.01)

        fake.adcChannel(.named("c2.pp")).set(volts: 5 * 220 / 1220)
        #expect(try c2.proximity.ampacity() == 32)

        fake.modbusBus("sim-meters").setRegisters(unit: 2, function: .readInputRegisters, address: 0x46, [0x4248, 0x0000])
        #expect(c2.meter?.plannedRequests.isEmpty == false)
    }

    @Test func reportsEveryPartThatCannotBeOpened() throws {
        let board = try simBoard()
        let fake = FakeBackend()
        fake.markMissing(GPIOLineAddress.name("c1.contactor.coil").description)
        fake.markMissing("sim")
        do {
            _ = try BoardHardware.assemble(board: board, backend: fake)
            Issue.record("assembled despite missing devices")
        } catch let error as BoardAssemblyError {
            #expect(error.failures.map(\.part) == ["c1.contactor", "station.display"])
            #expect(error.description.contains("c1.contactor: line \"c1.contactor.coil\": no such device"))
            #expect(error.assembled.contains("c2.contactor"))
        }
    }

    @Test func fixedCableBoardGetsItsRatingWithoutPP() throws {
        let text = """
        model: T
        backend: sim
        grid: {max_current: 32, phases: 1}
        connectors:
          - id: 1
            type: cable
            cable_rating: 20
            phases: 1
            max_current: 16
            pilot: {pwm: {name: c1.cp.pwm}, high: {name: c1.cp.high}}
            contactor: {coil: {name: c1.contactor.coil}}
        """
        let board = try BoardLoader.parse(text, file: "t.yaml", metersDirectory: Repo.metersDirectory)
        let hw = try BoardHardware.assemble(board: board, backend: FakeBackend())
        let c1 = try #require(hw.connector(id: 1))
        #expect(try c1.proximity.ampacity() == 20)
        #expect(c1.pilot.config.maximumCurrent == 16)
        #expect(c1.lock == nil)
        #expect(c1.meter == nil)
        #expect(hw.station.cardReader == nil)
    }
}
