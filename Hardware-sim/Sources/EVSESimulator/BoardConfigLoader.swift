import BoardDescription
import Foundation

/// Reads a sim board file (the same file the firmware runs on) into the simulator's
/// configuration: connectors and ratings, meter maps, display geometry, Wiegand frame length,
/// and the addresses the firmware will look for.
public enum BoardConfigLoader {
    public struct Loaded: Sendable {
        public var config: SimulatorConfig
        /// `simulator.address` of the board: where the firmware connects.
        public var halAddress: HostPort?
        /// The TCP address of the bus the meters are on.
        public var modbusAddress: HostPort?

        public init(config: SimulatorConfig, halAddress: HostPort? = nil, modbusAddress: HostPort? = nil) {
            self.config = config
            self.halAddress = halAddress
            self.modbusAddress = modbusAddress
        }
    }

    public static func load(path: String) throws -> Loaded {
        let board = try BoardLoader.load(path: path)
        return fromBoard(board)
    }

    public static func fromBoard(_ board: BoardDescription) -> Loaded {
        var modbus: HostPort?
        let connectors = board.connectors.map { c -> SimulatorConfig.Connector in
            var fixed: Double?
            if case let .fixedCable(rating) = c.kind { fixed = rating }
            if modbus == nil, let meter = c.meter, let bus = board.modbusBus(named: meter.bus),
               case let .tcp(host, port) = bus.link {
                modbus = HostPort(host: host, port: port)
            }
            var connector = SimulatorConfig.Connector(id: c.id, maxCurrentA: c.maxCurrentAmps, phases: c.phases,
                                                      fixedCableA: fixed, meterMap: c.meter?.map ?? SDM630.registerMap)
            if let wiring = c.contactor.phaseSwitch?.wiring { connector.phaseSwitch = wiring }
            return connector
        }
        var config = SimulatorConfig(model: board.model, connectors: connectors, gridFuseA: board.grid.maxCurrentAmps)
        if let m = board.grid.meter {
            config.gridMeter = SimulatorConfig.GridMeter(unit: m.unit, map: m.map)
            if modbus == nil, let bus = board.modbusBus(named: m.bus), case let .tcp(host, port) = bus.link {
                modbus = HostPort(host: host, port: port)
            }
        }
        if case let .hd44780(bus, address, columns, rows, rom) = board.station.display {
            config.displayROM = rom
            config.displayBus = bus
            config.displayAddress = address
            config.displayColumns = columns
            config.displayRows = rows
        }
        if case let .wiegand(_, _, bits, _) = board.station.rfid, bits == 26 || bits == 34 {
            config.wiegand = .bits(bits)
        }
        var hal: HostPort?
        if case let .sim(host, port) = board.backend { hal = HostPort(host: host, port: port) }
        return Loaded(config: config, halAddress: hal, modbusAddress: modbus)
    }
}
