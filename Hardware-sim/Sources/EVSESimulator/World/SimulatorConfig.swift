import Drivers
import HAL

/// What the simulated charger is made of. Built from a sim board file, or from
/// `--connectors N` with the defaults of `Board/sim-2x22kw.yaml`.
public struct SimulatorConfig: Sendable {
    public struct Connector: Sendable {
        public var id: Int
        /// The most the charger's hardware allows; the firmware's limit, not the EV's.
        public var maxCurrentA: Double
        public var phases: Int
        /// nil: a Type 2 socket (a cable with a PP resistor is plugged in);
        /// a value: a fixed cable with that rating (no PP).
        public var fixedCableA: Double?
        public var meterMap: MeterRegisterMap
        /// How `cN.phase.switch` drives the 1-phase/3-phase relay: the board's wiring, or
        /// (no relay on the board, or no board) high = 3 phases and three while undriven.
        public var phaseSwitch: PhaseSwitchWiring

        public init(id: Int, maxCurrentA: Double = 32, phases: Int = 3, fixedCableA: Double? = nil,
                    meterMap: MeterRegisterMap = SDM630.registerMap,
                    phaseSwitch: PhaseSwitchWiring = PhaseSwitchWiring(threePhaseLevel: .high, unpowered: .three)) {
            self.id = id
            self.maxCurrentA = maxCurrentA
            self.phases = phases
            self.fixedCableA = fixedCableA
            self.meterMap = meterMap
            self.phaseSwitch = phaseSwitch
        }
    }

    public enum WiegandFormat: Sendable, Equatable {
        /// 26 bit for UIDs of up to 3 bytes, 34 bit for longer ones (first 4 bytes).
        case automatic
        case bits(Int)
    }

    /// The meter at the grid connection point (house, PV and chargers together), served on the
    /// chargers' Modbus TCP server under its own unit id.
    public struct GridMeter: Sendable {
        public var unit: UInt8
        public var map: MeterRegisterMap
        public init(unit: UInt8, map: MeterRegisterMap) {
            self.unit = unit
            self.map = map
        }
    }

    public var model: String
    public var connectors: [Connector]
    public var gridMeter: GridMeter?
    /// The grid fuse, A per phase (shown on the page beside the phase currents).
    public var gridFuseA: Double
    public var nominalVoltage: Double
    public var frequency: Double
    public var displayBus: String
    public var displayAddress: UInt8
    public var displayColumns: Int
    public var displayRows: Int
    /// The character ROM of the simulated HD44780 (A02 shows Latin-1 letters).
    public var displayROM: HD44780Charset.ROM = .a00
    public var wiegand: WiegandFormat

    public init(model: String = "evse-sim", connectors: [Connector], nominalVoltage: Double = 230,
                frequency: Double = 50, displayBus: String = "sim", displayAddress: UInt8 = 39,
                displayColumns: Int = 20, displayRows: Int = 4, wiegand: WiegandFormat = .automatic,
                gridMeter: GridMeter? = nil, gridFuseA: Double = 50) {
        self.model = model
        self.connectors = connectors
        self.gridMeter = gridMeter
        self.gridFuseA = gridFuseA
        self.nominalVoltage = nominalVoltage
        self.frequency = frequency
        self.displayBus = displayBus
        self.displayAddress = displayAddress
        self.displayColumns = displayColumns
        self.displayRows = displayRows
        self.wiegand = wiegand
    }

    /// The grid meter's unit id on the simulator's Modbus server when no board file names one.
    public static let defaultGridMeterUnit: UInt8 = 10

    /// N Type 2 sockets, 3-phase 32 A, SDM630 meters, a 50 A grid connection with an SDM630
    /// grid meter at unit 10: the sim-2x22kw board.
    public static func standard(connectors n: Int) -> SimulatorConfig {
        SimulatorConfig(model: "sim-\(n)x22kw", connectors: (1...max(1, n)).map { Connector(id: $0) },
                        gridMeter: GridMeter(unit: defaultGridMeterUnit, map: SDM630.registerMap))
    }
}
