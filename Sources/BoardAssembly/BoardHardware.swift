import BoardDescription
import Drivers
import HAL

/// The live drivers of one connector, built from its `ConnectorDescription`.
public struct ConnectorHardware {
    public let description: ConnectorDescription
    public var id: Int { description.id }
    public let pilot: ControlPilot
    /// Sockets read PP; fixed cables carry the board's rating (no ADC).
    public let proximity: ProximityPilot
    public let lock: CableLock?
    public let contactor: Contactor
    public let rcd: FaultInput?
    public let rcdSelfTest: RCDSelfTest?
    public let meter: EnergyMeter?
    public let led: StatusLED?
}

/// Station-wide drivers.
public struct StationHardware {
    public let cardReader: (any CardReader)?
    public let display: (any TextDisplay)?
    public let led: StatusLED?
    /// Emergency stop and over-temperature inputs (empty when the board has none).
    public let faults: FaultInputs
    /// The meter at the grid connection point (`grid.meter`), nil when the board has none.
    public let gridMeter: EnergyMeter?
}

/// One part that could not be brought up, and why (usually a `HardwareError` naming the
/// device node or line).
public struct PartFailure: Error, Sendable, CustomStringConvertible {
    /// Dotted part name as in `BoardDescription.hardwareMap`: `c1.contactor`, `station.display`.
    public var part: String
    public var error: any Error

    public var description: String { "\(part): \(error)" }
}

/// Assembly stopped: every part that failed (not just the first), and the parts that came up.
public struct BoardAssemblyError: Error, Sendable, CustomStringConvertible {
    public var failures: [PartFailure]
    public var assembled: [String]
    public var description: String { failures.map(\.description).joined(separator: "\n") }
}

/// A board's drivers on a backend.
public final class BoardHardware {
    public let board: BoardDescription
    public let backend: any HardwareBackend
    public let connectors: [ConnectorHardware]
    public let station: StationHardware

    init(board: BoardDescription, backend: any HardwareBackend, connectors: [ConnectorHardware], station: StationHardware) {
        self.board = board
        self.backend = backend
        self.connectors = connectors
        self.station = station
    }

    public func connector(id: Int) -> ConnectorHardware? { connectors.first { $0.id == id } }

    /// Opens every primitive of `board` on `backend` and builds its drivers. Modbus buses are
    /// opened through `modbus` (default: the backend itself); the simulator's meters are real
    /// Modbus TCP, so callers on the sim backend pass `BackendFactory.openModbusBus`.
    /// Throws `BoardAssemblyError` listing every part that failed; then nothing is returned.
    public static func assemble(board: BoardDescription, backend: any HardwareBackend,
                                modbus: ((ModbusBusConfig) throws -> any ModbusBus)? = nil) throws -> BoardHardware {
        try Assembler(parts: PartFactory(board: board, backend: backend, modbus: modbus)).run()
    }
}

/// Builds one driver at a time from a board description, for tools that need only one part
/// (`evsectl pilot sense` should not fail because the display is unplugged).
public struct PartFactory {
    public let board: BoardDescription
    public let backend: any HardwareBackend
    let openBus: (ModbusBusConfig) throws -> any ModbusBus

    public init(board: BoardDescription, backend: any HardwareBackend,
                modbus: ((ModbusBusConfig) throws -> any ModbusBus)? = nil) {
        self.board = board
        self.backend = backend
        self.openBus = modbus ?? { try backend.openModbusBus($0) }
    }

    public func input(_ ref: GPIOLineRef, edges: GPIOEdgeDetection = .none) throws -> any GPIOLine {
        try backend.openGPIOLine(ref.address, config: ref.config(.input, edges: edges, consumer: "evse"))
    }

    public func output(_ ref: GPIOLineRef, initial: Bool = false) throws -> any GPIOLine {
        try backend.openGPIOLine(ref.address, config: ref.config(.output(initial: initial), consumer: "evse"))
    }

    static func faultConfig(_ kind: FaultKind, _ ref: GPIOLineRef) -> FaultInputConfig {
        ref.debounce == .zero ? FaultInputConfig(kind: kind) : FaultInputConfig(kind: kind, debounce: ref.debounce)
    }

    public func pilot(_ c: ConnectorDescription) throws -> ControlPilot {
        var config = ControlPilotConfig(pwmPolarity: c.pilot.pwm.polarity, highCalibration: c.pilot.high.calibration,
                                        lowCalibration: c.pilot.low?.calibration ?? .identity,
                                        diodeCheck: c.pilot.low != nil)
        config.maximumCurrent = c.ceilingAmps
        return try ControlPilot(config: config, pwm: backend.openPWM(c.pilot.pwm.address),
                                highLevel: backend.openADC(c.pilot.high.address),
                                lowLevel: c.pilot.low.map { try backend.openADC($0.address) })
    }

    public func proximity(_ c: ConnectorDescription) throws -> ProximityPilot {
        switch c.kind {
        case let .fixedCable(rating):
            return try ProximityPilot(config: .init(rating: .fixed(amps: rating)), adc: nil)
        case .socket:
            guard let pp = c.proximity else {
                throw HardwareError(.invalidArgument, device: "c\(c.id).proximity", "socket without proximity pilot")
            }
            let circuit = ProximityCircuit(pullUpOhms: pp.pullUpOhms, supplyVolts: pp.supplyVolts, calibration: pp.adc.calibration)
            return try ProximityPilot(config: .init(rating: .measured(circuit)), adc: backend.openADC(pp.adc.address))
        }
    }

    /// Nil when the connector has no lock (fixed cable).
    public func lock(_ c: ConnectorDescription) throws -> CableLock? {
        guard let l = c.lock else { return nil }
        let drive: CableLockConfig.Drive
        switch l.mode {
        case .level: drive = .level
        case let .pulse(d): drive = .pulse(duration: d)
        }
        return try CableLock(config: CableLockConfig(drive: drive, feedbackTimeout: l.timeout),
                             drive: output(l.drive), unlockDrive: l.unlock.map { try output($0) },
                             feedback: l.feedback.map { try input($0) })
    }

    public func contactor(_ c: ConnectorDescription) throws -> Contactor {
        let k = c.contactor
        return try Contactor(config: ContactorConfig(closeTimeout: k.feedbackTimeout, weldTimeout: k.feedbackTimeout),
                             coils: k.coils.map { try output($0) }, feedback: k.feedback.map { try input($0) },
                             phaseSwitch: k.phaseSwitch.map { try phaseSwitch($0) })
    }

    /// Requested at the three-phase level, where the station sets it at start anyway: after a
    /// restart the relay is where the previous run left it (three) while the contactor may still
    /// carry current for a few milliseconds, so taking the board must not switch it. (At power-on
    /// this does switch an unpowered one-phase relay, but no EV draws before the PWM offers.)
    func phaseSwitch(_ p: PhaseSwitchDescription) throws -> PhaseSwitch {
        PhaseSwitch(line: try output(p.line, initial: p.wiring.lineLevel(for: .three)), wiring: p.wiring)
    }

    public func rcd(_ c: ConnectorDescription) throws -> FaultInput? {
        guard let r = c.rcd else { return nil }
        return FaultInput(config: Self.faultConfig(.rcd, r.trip), line: try input(r.trip))
    }

    public func rcdSelfTest(_ c: ConnectorDescription, rcd: FaultInput) throws -> RCDSelfTest? {
        guard let t = c.rcd?.test else { return nil }
        return RCDSelfTest(config: .init(), testOutput: try output(t), rcd: rcd)
    }

    public func modbusBus(_ name: String) throws -> any ModbusBus {
        guard let config = board.modbusBus(named: name) else {
            throw HardwareError(.invalidArgument, device: name, "no such Modbus bus on the board")
        }
        return try openBus(config)
    }

    /// `bus`: an already opened bus to share between meters on one line.
    public func meter(_ c: ConnectorDescription, bus: (any ModbusBus)? = nil) throws -> EnergyMeter? {
        guard let m = c.meter else { return nil }
        return EnergyMeter(bus: try bus ?? modbusBus(m.bus), unit: m.unit, map: m.map)
    }

    /// `bus`: an already opened bus shared with the connectors' meters.
    public func gridMeter(bus: (any ModbusBus)? = nil) throws -> EnergyMeter? {
        guard let m = board.grid.meter else { return nil }
        // The grid meter carries the whole building: its currents are judged against the fuse
        // by energy management (2 × the fuse is implausible there), not by a charger's limit.
        var config = EnergyMeterConfig()
        config.plausibility.maxCurrent = max(config.plausibility.maxCurrent, 4 * board.grid.maxCurrentAmps)
        return EnergyMeter(bus: try bus ?? modbusBus(m.bus), unit: m.unit, map: m.map, config: config)
    }

    public func statusLED(_ l: StatusLEDDescription?) throws -> StatusLED? {
        guard let l else { return nil }
        func channel(_ ref: LEDChannelRef?) throws -> LEDChannel? {
            switch ref {
            case let .gpio(line)?: return .line(try output(line))
            case let .pwm(p)?:
                let out = try backend.openPWM(p.address)
                // Dark until the LED's first frame sets a duty; an active-low LED is wired inversed.
                try out.setEnabled(false)
                try out.setPolarity(p.polarity)
                return .pwm(out)
            case let .kernel(l)?:
                return .kernel(try backend.openLED(l.address))
            case nil: return nil
            }
        }
        return try StatusLED(lines: .rgb(red: channel(l.red), green: channel(l.green), blue: channel(l.blue)))
    }

    public func cardReader() throws -> (any CardReader)? {
        switch board.station.rfid {
        case let .wiegand(d0, d1, bits, timeout)?:
            let format: WiegandFormat = bits == 26 ? .wiegand26 : bits == 34 ? .wiegand34 : .raw(bits: bits)
            return WiegandReader(d0: try input(d0, edges: .both), d1: try input(d1, edges: .both),
                                 config: WiegandConfig(formats: [format], frameGap: timeout))
        case let .hid(device)?:
            return HIDKeyboardReader(source: try backend.openKeyEventSource(device: device))
        case nil:
            return nil
        }
    }

    /// `consoleSink` receives the console display's lines.
    public func display(consoleSink: @escaping @Sendable (String) -> Void = { print($0) }) throws -> (any TextDisplay)? {
        switch board.station.display {
        case let .hd44780(bus, address, columns, rows, rom)?:
            return try HD44780Display(i2c: backend.openI2CDevice(bus: bus, address: address), columns: columns, rows: rows, rom: rom)
        case let .ssd1306(bus, address)?:
            return try SSD1306Display(i2c: backend.openI2CDevice(bus: bus, address: address))
        case .console?:
            return try ConsoleDisplay(columns: 20, rows: 4, sink: consoleSink)
        case nil:
            return nil
        }
    }

    public func emergencyStop() throws -> FaultInput? {
        guard let e = board.station.emergencyStop else { return nil }
        return FaultInput(config: Self.faultConfig(.emergencyStop, e), line: try input(e))
    }

    public func overTemperature() throws -> FaultInput? {
        guard let t = board.station.overTemperature else { return nil }
        return FaultInput(config: Self.faultConfig(.overTemperature, t), line: try input(t))
    }
}

/// Builds the drivers part by part, collecting failures so that one report names them all.
private final class Assembler {
    let parts: PartFactory
    var failures: [PartFailure] = []
    var assembled: [String] = []
    var buses: [String: any ModbusBus] = [:]

    init(parts: PartFactory) { self.parts = parts }

    func attempt<T>(_ part: String, _ build: () throws -> T) -> T? {
        do {
            let v = try build()
            assembled.append(part)
            return v
        } catch {
            failures.append(PartFailure(part: part, error: error))
            return nil
        }
    }

    func run() throws -> BoardHardware {
        var connectors: [ConnectorHardware] = []
        for c in parts.board.connectors {
            if let hw = connector(c) { connectors.append(hw) }
        }
        let station = stationParts()
        guard failures.isEmpty, let station else {
            throw BoardAssemblyError(failures: failures, assembled: assembled)
        }
        return BoardHardware(board: parts.board, backend: parts.backend, connectors: connectors, station: station)
    }

    func connector(_ c: ConnectorDescription) -> ConnectorHardware? {
        let p = "c\(c.id)"
        let pilot = attempt("\(p).pilot") { try parts.pilot(c) }
        let proximity = attempt("\(p).proximity") { try parts.proximity(c) }
        let lock = c.lock == nil ? nil : attempt("\(p).lock") { try parts.lock(c) } ?? nil
        let contactor = attempt("\(p).contactor") { try parts.contactor(c) }
        let rcd = c.rcd == nil ? nil : attempt("\(p).rcd") { try parts.rcd(c) } ?? nil
        var rcdSelfTest: RCDSelfTest?
        if c.rcd?.test != nil, let rcd {
            rcdSelfTest = attempt("\(p).rcd.test") { try parts.rcdSelfTest(c, rcd: rcd) } ?? nil
        }
        var meter: EnergyMeter?
        if let m = c.meter {
            meter = attempt("\(p).meter") { () throws -> EnergyMeter? in
                let bus = try buses[m.bus] ?? parts.modbusBus(m.bus)
                buses[m.bus] = bus
                return try parts.meter(c, bus: bus)
            } ?? nil
        }
        let led = c.led == nil ? nil : attempt("\(p).led") { try parts.statusLED(c.led) } ?? nil

        guard let pilot, let proximity, let contactor,
              (c.lock == nil) == (lock == nil), (c.rcd == nil) == (rcd == nil),
              (c.rcd?.test == nil) == (rcdSelfTest == nil),
              (c.meter == nil) == (meter == nil), (c.led == nil) == (led == nil) else { return nil }
        return ConnectorHardware(description: c, pilot: pilot, proximity: proximity, lock: lock, contactor: contactor,
                                 rcd: rcd, rcdSelfTest: rcdSelfTest, meter: meter, led: led)
    }

    func stationParts() -> StationHardware? {
        let s = parts.board.station
        var ok = true
        var reader: (any CardReader)?
        if s.rfid != nil {
            reader = attempt("station.rfid") { try parts.cardReader() } ?? nil
            ok = ok && reader != nil
        }
        var display: (any TextDisplay)?
        if s.display != nil {
            display = attempt("station.display") { try parts.display() } ?? nil
            ok = ok && display != nil
        }
        var led: StatusLED?
        if s.led != nil {
            led = attempt("station.led") { try parts.statusLED(s.led) } ?? nil
            ok = ok && led != nil
        }
        var inputs: [FaultInput] = []
        if s.emergencyStop != nil {
            if let f = attempt("station.estop", { try parts.emergencyStop() }) ?? nil { inputs.append(f) } else { ok = false }
        }
        if s.overTemperature != nil {
            if let f = attempt("station.overtemp", { try parts.overTemperature() }) ?? nil { inputs.append(f) } else { ok = false }
        }
        var gridMeter: EnergyMeter?
        if let m = parts.board.grid.meter {
            gridMeter = attempt("grid.meter") { () throws -> EnergyMeter? in
                let bus = try buses[m.bus] ?? parts.modbusBus(m.bus)
                buses[m.bus] = bus
                return try parts.gridMeter(bus: bus)
            } ?? nil
            ok = ok && gridMeter != nil
        }
        guard ok else { return nil }
        return StationHardware(cardReader: reader, display: display, led: led, faults: FaultInputs(inputs: inputs),
                               gridMeter: gridMeter)
    }
}
