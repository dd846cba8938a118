import Testing
import Drivers
import HAL
@testable import BoardDescription

@Suite("Shipped boards")
struct ShippedBoardTests {
    @Test(arguments: Repo.shippedBoards)
    func loads(file: String) throws {
        let board = try BoardLoader.load(path: Repo.boardDirectory + "/" + file)
        #expect(!board.connectors.isEmpty)
        #expect(!board.hardwareMap.isEmpty)
        #expect(board.summary.contains("board: \(board.model)"))
        for c in board.connectors {
            #expect(c.ceilingAmps <= board.grid.maxCurrentAmps)
        }
    }

    @Test func everyMeterMapLoads() throws {
        for name in ["sdm630", "sdm72d-m", "sdm120", "abb-b23", "abb-b24", "em340"] {
            let path = try #require(MeterMapLoader.locate(name, metersDirectory: Repo.metersDirectory), "\(name)")
            let map = try MeterMapLoader.load(path: path)
            #expect(map.name == name)
            #expect(!map.registers.isEmpty)
        }
    }

    @Test func simBoardIsWiredToTheSimulatorNames() throws {
        let board = try BoardLoader.load(path: Repo.boardDirectory + "/sim-2x22kw.yaml")
        #expect(board.model == "SwiftEVSE Sim 2x22kW")
        #expect(board.backend == .sim(host: "127.0.0.1", port: 8089))
        #expect(board.grid.maxCurrentAmps == 50 && board.grid.phases == 3)
        // The simulator's grid meter (Hardware-sim/PROTOCOL.md), not a charger's.
        #expect(board.grid.meter?.bus == "sim-meters" && board.grid.meter?.unit == 10 && board.grid.meter?.map.name == "em340")
        #expect(board.grid.marginAmps == 2 && board.grid.fallbackCurrentAmps == 8)
        #expect(board.modbusBuses == [ModbusBusConfig(name: "sim-meters", link: .tcp(host: "127.0.0.1", port: 5020))])
        #expect(board.connectors.map(\.id) == [1, 2])
        for c in board.connectors {
            let p = "c\(c.id)"
            #expect(c.kind == .socket)
            #expect(c.phases == 3)
            #expect(c.maxCurrentAmps == 32)
            #expect(c.pilot.pwm.address == .named("\(p).cp.pwm"))
            #expect(c.pilot.high.address == .named("\(p).cp.high"))
            #expect(c.pilot.low?.address == .named("\(p).cp.low"))
            #expect(c.proximity?.adc.address == .named("\(p).pp"))
            #expect(c.proximity?.pullUpOhms == 1000)
            #expect(c.proximity?.supplyVolts == 5)
            #expect(c.contactor.coils.map(\.address) == [.name("\(p).contactor.coil")])
            #expect(c.contactor.feedback?.address == .name("\(p).contactor.feedback"))
            #expect(c.contactor.phaseSwitch?.line.address == .name("\(p).phase.switch"))
            #expect(c.contactor.phaseSwitch?.wiring == PhaseSwitchWiring(threePhaseLevel: .high, unpowered: .one))
            #expect(c.lock?.drive.address == .name("\(p).lock.drive"))
            #expect(c.lock?.feedback?.address == .name("\(p).lock.feedback"))
            #expect(c.rcd?.trip.address == .name("\(p).rcd"))
            #expect(c.rcd?.test?.address == .name("\(p).rcd.test"))
            #expect(c.meter?.bus == "sim-meters")
            #expect(c.meter?.unit == UInt8(c.id))
            #expect(c.meter?.map.name == "sdm630")
            if c.id == 1 {
                // LED class devices: the charging pattern breathes, run by the kernel (the simulator).
                guard case let .kernel(red)? = c.led?.red else { Issue.record("c1's LED is on LED class devices"); continue }
                #expect(red.address == .named("c1.led.red.class"))
            } else {
                guard case let .gpio(red)? = c.led?.red else { Issue.record("c2's LED is on GPIO lines"); continue }
                #expect(red.address == .name("\(p).led.red"))
            }
        }
        guard case let .wiegand(d0, d1, bits, _)? = board.station.rfid else {
            Issue.record("expected a Wiegand reader")
            return
        }
        #expect(d0.address == .name("rfid.d0"))
        #expect(d1.address == .name("rfid.d1"))
        #expect(bits == 34)
        #expect(board.station.display == .hd44780(bus: "sim", address: 0x27, columns: 20, rows: 4))
        #expect(board.station.emergencyStop?.address == .name("estop"))
        #expect(board.station.overTemperature?.address == .name("overtemp"))
        #expect(board.gpioLine("c2.contactor.coil")?.isOutput == true)
        #expect(board.gpioLine("estop")?.part == "station.estop")
    }

    @Test func realHardwareExamplesUseChipsAndIIO() throws {
        let cm4 = try BoardLoader.load(path: Repo.boardDirectory + "/cm4-1x11kw.yaml")
        #expect(cm4.backend == .linux)
        #expect(cm4.connectors[0].pilot.pwm.address == .sysfs(chip: 0, channel: 0))
        #expect(cm4.connectors[0].pilot.high.address == .iio(device: "ads1115", channel: "voltage0"))
        #expect(cm4.connectors[0].pilot.high.calibration == ADCCalibration(gain: 7.27, offset: -12))
        #expect(cm4.connectors[0].maxCurrentAmps == 16)
        #expect(cm4.gpioLine("gpiochip0:17")?.part == "c1.contactor.coil")

        let pillar = try BoardLoader.load(path: Repo.boardDirectory + "/2x22kw-rs485.yaml")
        #expect(pillar.connectors[1].kind == .fixedCable(ratingAmps: 32))
        #expect(pillar.connectors[1].proximity == nil)
        #expect(pillar.connectors[0].lock?.mode == .pulse(.milliseconds(300)))
        #expect(pillar.connectors[0].contactor.coils.count == 2)
        #expect(pillar.connectors[0].contactor.phaseSwitch?.wiring == PhaseSwitchWiring(threePhaseLevel: .low, unpowered: .three))
        #expect(pillar.modbusBuses.first?.link == .rtu(device: "/dev/ttymxc2", baud: 9600, parity: .none, dataBits: 8, stopBits: 1, rs485: true))
        #expect(pillar.station.display == .hd44780(bus: "/dev/i2c-2", address: 0x27, columns: 20, rows: 4))
        if case let .wiegand(_, _, bits, _)? = pillar.station.rfid { #expect(bits == 34) } else { Issue.record("no wiegand") }
    }
}
